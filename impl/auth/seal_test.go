package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := NewSealer(secret)
	require.NoError(t, err)
	sealed, err := s.Seal("reset-token-123")
	require.NoError(t, err)
	require.NotContains(t, sealed, "reset-token-123")
	again, err := s.Seal("reset-token-123")
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce each time")

	plain, err := s.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "reset-token-123", plain)

	other, err := NewSealer([]byte(strings.Repeat("x", 32)))
	require.NoError(t, err)
	// Tampered: one character in the middle changed (the last ones may carry only padding bits, and replacing
	// them with a fixed "AA" left one seal in thousands unchanged).
	mid := len(sealed) / 2
	tampered := sealed[:mid] + map[bool]string{true: "B", false: "A"}[sealed[mid] == 'A'] + sealed[mid+1:]
	for _, bad := range []string{"", "!!", "abc", tampered} {
		_, err := s.Open(bad)
		require.ErrorIs(t, err, ErrUnsealable, bad)
	}
	_, err = other.Open(sealed)
	require.ErrorIs(t, err, ErrUnsealable, "another key cannot open it")
}
