package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newTokens(t *testing.T, now time.Time) *Tokens {
	t.Helper()
	tok, err := NewTokens(secret, "junction", "junction-api", time.Hour)
	require.NoError(t, err)
	tok.now = func() time.Time { return now }
	return tok
}

func TestIssueAndVerify(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tok := newTokens(t, now)
	signed, err := tok.Issue("user-1")
	require.NoError(t, err)
	claims, err := tok.Verify(signed)
	require.NoError(t, err)
	require.Equal(t, "user-1", claims.Subject)
	require.Equal(t, now.Unix(), claims.IssuedAt.Unix())
}

// TestVerifiedTokensStillExpire: a remembered token is refused once it expires.
func TestVerifiedTokensStillExpire(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tok := newTokens(t, now)
	signed, err := tok.Issue("user-1")
	require.NoError(t, err)
	for range 2 {
		_, err = tok.Verify(signed)
		require.NoError(t, err)
	}
	tok.now = func() time.Time { return now.Add(time.Hour + time.Second) }
	_, err = tok.Verify(signed)
	require.ErrorIs(t, err, ErrInvalidToken)
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tok := newTokens(t, now)
	valid, err := tok.Issue("user-1")
	require.NoError(t, err)
	_, err = tok.Verify(valid) // remembered now: its tampered variants below must still fail
	require.NoError(t, err)
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		require.NoError(t, err)
		return s
	}
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "user-1", "iss": "junction", "aud": "junction-api",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	parts := strings.Split(valid, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not.a.jwt"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good())},
		{"HS512", sign(jwt.SigningMethodHS512, secret, good())},
		{"other secret", sign(jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!"), good())},
		{"expired", sign(jwt.SigningMethodHS256, secret, with("exp", now.Add(-time.Minute).Unix()))},
		{"no expiry", sign(jwt.SigningMethodHS256, secret, with("exp", nil))},
		{"issued in the future", sign(jwt.SigningMethodHS256, secret, with("iat", now.Add(time.Hour).Unix()))},
		{"no iat", sign(jwt.SigningMethodHS256, secret, with("iat", nil))},
		{"wrong audience", sign(jwt.SigningMethodHS256, secret, with("aud", "someone-else"))},
		{"wrong issuer", sign(jwt.SigningMethodHS256, secret, with("iss", "evil"))},
		{"no subject", sign(jwt.SigningMethodHS256, secret, with("sub", nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tok.Verify(tt.token)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidToken), err)
		})
	}
}

func TestNewTokensNeedsALongSecret(t *testing.T) {
	t.Parallel()
	_, err := NewTokens([]byte("short"), "i", "a", time.Hour)
	require.Error(t, err)
}
