package idempotency_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/servicetest"
)

// TestPruneDeletesOnlyExpiredKeys: the periodic prune deletes the answers past their time, in batches, and keeps
// the others.
func TestPruneDeletesOnlyExpiredKeys(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	_, err := pool.Exec(context.Background(), `INSERT INTO idempotency_keys (id, fingerprint, status, body, expires_at)
		SELECT sha256(convert_to('k' || i, 'UTF8')), '\x00', 201, '\x7b7d', now() + CASE WHEN i % 3 = 0 THEN interval '1 hour' ELSE interval '-1 second' END
		FROM generate_series(1, 12000) i`)
	require.NoError(t, err)
	n, err := s.Idempotency.Prune(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 8000, n)
	var left int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM idempotency_keys WHERE expires_at > now()").Scan(&left))
	require.Equal(t, 4000, left)
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM idempotency_keys").Scan(&left))
	require.Equal(t, 4000, left)
}

// TestAnAnswerStoredBeforeTheDigestIsFoundByIt: migrations/00019 gave the answers stored before it the digest of
// their key's identity, in SQL; the service must find them by the same digest, computed in Go.
func TestAnAnswerStoredBeforeTheDigestIsFoundByIt(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	for _, r := range []service.IdempotentRequest{
		{Scope: "user:7f0c7a0e-9f4e-4d8a-8f8e-2b1a3c4d5e6f", Method: "POST", Route: "/api/posts", Key: "3f2b8c1e-key"},
		{Scope: "ip:203.0.113.7", Method: "PATCH", Route: "/api/posts/{id}", Key: `~!#$%&'()*+,-./:;<=>?@[\\]^_{|}`},
		{Scope: "ip:2001:db8::/64", Method: "POST", Route: "/graphql", Key: "k"},
	} {
		var digest []byte
		// The expression of migrations/00019's UPDATE.
		require.NoError(t, pool.QueryRow(context.Background(),
			"SELECT sha256(convert_to($1::text || ' ' || $2::text || ' ' || $3::text || ' ' || $4::text, 'UTF8'))",
			r.Scope, r.Method, r.Route, r.Key).Scan(&digest))
		require.Equal(t, digest, r.ID(), "%+v", r)
	}
}

// TestAUUIDv7KeyIsFiledUnderItsTime: a key that is a UUIDv7 leads its answer's id with the key's 6-byte time, so
// that answers stored one after another sit side by side in the index; any other key's id is its digest alone.
func TestAUUIDv7KeyIsFiledUnderItsTime(t *testing.T) {
	t.Parallel()
	base := service.IdempotentRequest{Scope: "user:7f0c7a0e-9f4e-4d8a-8f8e-2b1a3c4d5e6f", Method: "POST", Route: "/api/posts"}
	with := func(key string) service.IdempotentRequest { r := base; r.Key = key; return r }
	cases := []struct {
		key    string
		prefix []byte // nil: the digest alone
	}{
		{"01932c07-a5e4-7b3c-9d2e-4f5a6b7c8d9e", []byte{0x01, 0x93, 0x2c, 0x07, 0xa5, 0xe4}},
		{"01932C07-A5E4-7B3C-AD2E-4F5A6B7C8D9E", []byte{0x01, 0x93, 0x2c, 0x07, 0xa5, 0xe4}},
		{"01932c07-a5e4-4b3c-9d2e-4f5a6b7c8d9e", nil}, // version 4
		{"01932c07-a5e4-7b3c-cd2e-4f5a6b7c8d9e", nil}, // variant 110
		{"01932c07a5e47b3c9d2e4f5a6b7c8d9e", nil},     // not the text form
		{"{01932c07-a5e4-7b3c-9d2e-4f5a6b7c8d9}", nil},
		{"01932c07-a5e4-7b3c-9d2e-4f5a6b7c8d9g", nil},
		{"key-1", nil},
	}
	for _, c := range cases {
		r := with(c.key)
		id := r.ID()
		digest := sha256.Sum256([]byte(r.Scope + " " + r.Method + " " + r.Route + " " + r.Key))
		require.Equal(t, append(c.prefix, digest[:]...), id, c.key)
		require.Equal(t, id, with(c.key).ID(), "the same key, the same id")
	}
	a, b := with(uuid.Must(uuid.NewV7()).String()), with(uuid.Must(uuid.NewV7()).String())
	time.Sleep(2 * time.Millisecond)
	c := with(uuid.Must(uuid.NewV7()).String())
	require.Less(t, string(a.ID()[:6]), string(c.ID()[:6]), "later keys file later")
	require.NotEqual(t, a.ID(), b.ID())
}
