package core

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
		require.Equal(t, tt.want, ContainsPattern(tt.term), tt.term)
	}
}

func ptr[T any](v T) *T { return &v }
