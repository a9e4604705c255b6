// Package password hashes and verifies passwords with argon2id, in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$key), so that parameters can change without invalidating old hashes.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformedHash means a stored hash is not an argon2id PHC string this package can read.
var ErrMalformedHash = errors.New("password: malformed hash")

// Hasher hashes passwords. Each hash holds MemoryKiB of memory while it runs, so a Hasher lets at most
// GOMAXPROCS run at once: a burst of sign-ups queues instead of exhausting memory.
type Hasher struct {
	params Params
	slots  chan struct{}

	dummy    string
	dummyErr error
}

// NewHasher returns a Hasher for new hashes with params. It makes the stand-in hash of [Hasher.VerifyNothing] at
// once (made on first use, it made the first sign-in for an unknown email cost two hashes), without hashing: a
// random salt and a random key of the right sizes in a hash's encoding cost a Verify exactly what a real hash
// does, and nothing at start-up (a real hash there kept its MemoryKiB, 19 MiB, in an idle process's RSS).
func NewHasher(params Params) *Hasher {
	h := &Hasher{params: params, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	h.makeDummy()
	return h
}

func (h *Hasher) makeDummy() {
	salt, key := make([]byte, saltLen), make([]byte, keyLen)
	if _, err := rand.Read(salt); err != nil {
		h.dummyErr = fmt.Errorf("password: salt: %w", err)
		return
	}
	_, _ = rand.Read(key) // crypto/rand.Read never fails where the salt's did not
	h.dummy = h.encode(salt, key)
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-encoded argon2id hash of plain with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(plain), salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return h.encode(salt, key), nil
}

// encode is the PHC string of an argon2id key made with h's parameters.
func (h *Hasher) encode(salt, key []byte) string {
	p, b64 := h.params, base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether plain matches encoded, using the parameters stored in encoded.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(plain), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyNothing spends the time of a [Hasher.Verify] against a hash made with the current parameters and reports
// false. A sign-in for an unknown email calls it so that it takes as long as one with a wrong password.
func (h *Hasher) VerifyNothing(ctx context.Context, plain string) error {
	if h.dummyErr != nil {
		return h.dummyErr
	}
	_, err := h.Verify(ctx, plain, h.dummy)
	return err
}

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
