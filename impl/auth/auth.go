// Package auth issues and verifies Junction's bearer tokens: JWTs signed with HS256, whose subject, issue time,
// expiry, issuer and audience are all checked. No other algorithm is accepted, "none" included.
package auth

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken means a token is missing, malformed, expired, tampered with, or meant for someone else.
var ErrInvalidToken = errors.New("auth: invalid token")

// MinSecretLen is the shortest HS256 secret accepted: 256 bits.
const MinSecretLen = 32

// Tokens issues and verifies tokens with one secret.
type Tokens struct {
	secret   []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time

	// verified remembers the tokens that passed Verify until they expire: a client sends the same token with
	// every request, and decoding and checking it again cost a tenth of a by-id read's CPU. The key is the
	// whole token, signature included, so only a token that was itself verified can match.
	mu       sync.Mutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	claims  Claims
	expires time.Time
}

// Claims are what a verified token says.
type Claims struct {
	Subject  string
	IssuedAt time.Time
	// ExpiresAt is when the token stops being valid: a session that outlives a request (a WebSocket) ends then.
	ExpiresAt time.Time
}

// verifiedMax bounds the verified-token cache (about 300 bytes an entry).
const verifiedMax = 10_000

// NewTokens returns a Tokens that signs with secret and issues tokens valid for ttl.
func NewTokens(secret []byte, issuer, audience string, ttl time.Duration) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: the secret must be at least %d bytes", MinSecretLen)
	}
	return &Tokens{secret: secret, issuer: issuer, audience: audience, ttl: ttl, now: time.Now, verified: map[string]verifiedToken{}}, nil
}

// TTL is how long issued tokens are valid.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed token for subject.
func (t *Tokens) Issue(subject string) (string, error) {
	now := t.now()
	claims := jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return signed, nil
}

// Verify checks token and returns its claims. Every failure wraps [ErrInvalidToken].
func (t *Tokens) Verify(token string) (Claims, error) {
	t.mu.Lock()
	v, ok := t.verified[token]
	t.mu.Unlock()
	if ok && t.now().Before(v.expires) {
		return v.claims, nil
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims,
		func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if claims.Subject == "" || claims.IssuedAt == nil {
		return Claims{}, fmt.Errorf("%w: missing sub or iat", ErrInvalidToken)
	}
	c := Claims{Subject: claims.Subject, IssuedAt: claims.IssuedAt.Time, ExpiresAt: claims.ExpiresAt.Time}
	t.mu.Lock()
	if len(t.verified) >= verifiedMax {
		clear(t.verified) // rare; cheaper than tracking recency on every hit
	}
	t.verified[token] = verifiedToken{claims: c, expires: claims.ExpiresAt.Time}
	t.mu.Unlock()
	return c, nil
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header value (the scheme in any case), and
// false for anything else.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}
