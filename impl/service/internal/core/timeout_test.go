package core_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// TestTransactionsCarryTheirLimits: the transactions the services open bound their statements with the statement
// timeout (SET LOCAL, in BEGIN's round trip), an Idempotency-Key's first one too, and leave it behind on no
// connection; a key's lock is the transaction's. Directly and through PgBouncer in transaction pooling mode,
// where a connection carries no timeout of its own and a session's lock or SET would stay on a server connection
// that other clients then use.
func TestTransactionsCarryTheirLimits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		open func(t testing.TB) (pool, session *pgxpool.Pool)
	}{
		{"direct", func(t testing.TB) (*pgxpool.Pool, *pgxpool.Pool) { p := dbtest.New(t); return p, p }},
		{"through PgBouncer", dbtest.NewThroughPgBouncer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool, session := tt.open(t)
			inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
			require.NoError(t, err)
			c := core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.DiscardHandler))
			c.StatementTimeout = 150 * time.Millisecond
			sleep := func(tx pgx.Tx) error { _, err := tx.Exec(ctx, "SELECT pg_sleep(5)"); return err }

			start := time.Now()
			requireTimedOut(t, c.InTx(ctx, sleep))
			req := service.IdempotentRequest{Scope: "user:x", Method: "POST", Route: "/api/posts", Key: "k"}
			requireTimedOut(t, c.InTx(core.WithUnit(ctx, core.NewUnit(req)), sleep))
			require.Less(t, time.Since(start), 4*time.Second)
			var setting string
			for range 10 {
				require.NoError(t, pool.QueryRow(ctx, "SELECT current_setting('statement_timeout')").Scan(&setting))
				require.Equal(t, "0", setting, "the timeout ended with its transaction")
			}

			// A key's lock, held by a running request, refuses another with the key, and goes with its transaction.
			running := core.NewUnit(req)
			require.NoError(t, c.InTx(core.WithUnit(ctx, running), func(pgx.Tx) error { return nil }))
			second := core.NewUnit(req)
			require.Error(t, c.InTx(core.WithUnit(ctx, second), func(pgx.Tx) error { return nil }))
			require.ErrorIs(t, second.Refusal(), service.ErrIdempotencyInFlight)
			_, err = c.Finish(ctx, running, nil, time.Hour) // rolled back: the lock goes with it
			require.NoError(t, err)
			var locks int
			require.NoError(t, session.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks))
			require.Zero(t, locks, "no lock stays behind on a server connection")
			third := core.NewUnit(req)
			require.NoError(t, c.InTx(core.WithUnit(ctx, third), func(pgx.Tx) error { return nil }))
			_, err = c.Finish(ctx, third, nil, time.Hour)
			require.NoError(t, err)
		})
	}
}

func requireTimedOut(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, "57014", pgErr.Code, "cancelled by statement_timeout")
}
