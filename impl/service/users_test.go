package service

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestContainsPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		term string
		want *string
	}{
		{"", nil},
		{"ada", ptr("%ada%")},
		{"100%", ptr(`%100\%%`)},
		{"a_b", ptr(`%a\_b%`)},
		{`c:\x`, ptr(`%c:\\x%`)},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, containsPattern(tt.term), tt.term)
	}
}

func TestListUsersParamsWhitelist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    ListUsersParams
		field string
	}{
		{"unknown sort", ListUsersParams{Sort: "password_hash"}, "sort"},
		{"unknown order", ListUsersParams{Order: "random()"}, "order"},
		{"limit too big", ListUsersParams{Limit: 101}, "limit"},
		{"negative page", ListUsersParams{Page: -1}, "page"},
		{"NUL in search", ListUsersParams{Search: "a\x00"}, "search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.in.normalize()
			var se *Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, EINVALID, se.Code)
			require.Contains(t, se.Fields, tt.field)
		})
	}
	p, err := ListUsersParams{}.normalize()
	require.NoError(t, err)
	require.Equal(t, ListUsersParams{Page: 1, Limit: 20, Sort: UserSortCreatedAt, Order: Desc}, p)
}

func ptr[T any](v T) *T { return &v }
