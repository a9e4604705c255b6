package postgres_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/postgres"
)

func TestConnectAppliesTheStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool, err := postgres.Connect(ctx, dbtest.NewURL(t), config.DBConfig{
		MaxConns: 2, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 2 * time.Second,
		WaitTimeout: 5 * time.Second, StatementTimeout: 100 * time.Millisecond,
	}, logger)
	require.NoError(t, err)
	defer pool.Close()

	start := time.Now()
	_, err = pool.Exec(ctx, "SELECT pg_sleep(5)")
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), err)
	require.Equal(t, "57014", pgErr.Code, "cancelled by statement_timeout")
	require.Less(t, time.Since(start), 3*time.Second)

	// Migrations run without it, on their own pool.
	require.NoError(t, postgres.Migrate(ctx, pool, logger))
}

// TestCustomPlans: a statement run through CustomPlans is planned for its values every time, never cached as a
// generic plan; any other statement is a named prepared statement that PostgreSQL switches to a generic plan.
func TestCustomPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	const cached, custom = "SELECT count(*) FROM users WHERE id = $1", "SELECT count(*) FROM users WHERE name = $1"
	for range 10 {
		var n int
		require.NoError(t, conn.QueryRow(ctx, cached, uuid.New()).Scan(&n))
		require.NoError(t, postgres.CustomPlans(conn).QueryRow(ctx, custom, "Ada").Scan(&n))
	}
	plans := func(statement string) (found bool, generic int64) {
		err := conn.QueryRow(ctx, "SELECT generic_plans FROM pg_prepared_statements WHERE statement = $1", statement).Scan(&generic)
		return err == nil, generic
	}
	found, generic := plans(cached)
	require.True(t, found)
	require.Positive(t, generic, "the cached statement went generic")
	found, _ = plans(custom)
	require.False(t, found, "the custom-planned statement is never a named, cached one")
}

// TestUUIDsTravelAsBinary: uuid.UUID values, plain, nullable and in arrays, go to PostgreSQL and back unchanged
// through the binary codec, and NULL into a plain uuid.UUID is an error, not a zero value.
func TestUUIDsTravelAsBinary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	id := uuid.New()
	var got uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", id).Scan(&got))
	require.Equal(t, id, got)
	var text string
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid::text", id).Scan(&text))
	require.Equal(t, id.String(), text, "sent as the same uuid")
	var nullable *uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", (*uuid.UUID)(nil)).Scan(&nullable))
	require.Nil(t, nullable)
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid", &id).Scan(&nullable))
	require.Equal(t, id, *nullable)
	ids := []uuid.UUID{uuid.New(), uuid.New()}
	var back []uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid[]", ids).Scan(&back))
	require.Equal(t, ids, back)
	require.Error(t, pool.QueryRow(ctx, "SELECT NULL::uuid").Scan(&got))
}
