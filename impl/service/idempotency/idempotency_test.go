package idempotency_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/servicetest"
)

// TestPruneDeletesOnlyExpiredKeys: the periodic prune deletes the answers past their time, in batches, and keeps
// the others.
func TestPruneDeletesOnlyExpiredKeys(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	_, err := pool.Exec(context.Background(), `INSERT INTO idempotency_keys (scope, key, method, route, fingerprint, status, body, expires_at)
		SELECT 'user:x', 'k' || i, 'POST', '/api/posts', '\x00', 201, '\x7b7d', now() + CASE WHEN i % 3 = 0 THEN interval '1 hour' ELSE interval '-1 second' END
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
