package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Sealer encrypts the secrets that must pass through the database on their way to a worker (a password-reset
// token in a job's args), so that reading the database is not enough to use them. AES-256-GCM, with a key derived
// from the server's secret.
type Sealer struct {
	aead cipher.AEAD
}

// ErrUnsealable means a sealed value was not sealed with this key, or was changed.
var ErrUnsealable = errors.New("auth: cannot open sealed value")

// NewSealer derives its key from secret with HKDF-SHA256.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: the secret must be at least %d bytes", MinSecretLen)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "junction sealed job secrets v1", 32)
	if err != nil {
		return nil, fmt.Errorf("auth: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: gcm: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain into a URL-safe string.
func (s *Sealer) Seal(plain string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("auth: nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), nil)), nil
}

// Open decrypts what Seal returned; anything else is [ErrUnsealable].
func (s *Sealer) Open(sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrUnsealable
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], nil)
	if err != nil {
		return "", ErrUnsealable
	}
	return string(plain), nil
}
