package postgres_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

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
	var plan string
	require.NoError(t, pool.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&plan))
	require.Equal(t, "force_custom_plan", plan)
}
