package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/postgres"
)

// TestPgBouncerPoolsTransactions: the PgBouncer of the tests pools transactions, not sessions, so that the tests
// run through it cannot pass by accident. More clients than its pool has server connections are all answered at
// once, by fewer backends than clients; in session pooling the first client past the pool's size would wait for
// a session to end.
func TestPgBouncerPoolsTransactions(t *testing.T) {
	t.Parallel()
	through := dbtest.ThroughPgBouncer(t, dbtest.NewURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := pgx.Connect(ctx, through)
	require.NoError(t, err)
	defer first.Close(context.Background())
	size := dbtest.PgBouncerPool(t, through).Size
	require.Positive(t, size)

	conns := []*pgx.Conn{first}
	for len(conns) < size+2 {
		c, err := pgx.Connect(ctx, through)
		require.NoError(t, err)
		defer c.Close(context.Background())
		conns = append(conns, c)
	}
	backends := map[uint32]bool{}
	for _, c := range conns {
		var pid uint32
		require.NoError(t, c.QueryRow(ctx, "SELECT pg_backend_pid()", pgx.QueryExecModeSimpleProtocol).Scan(&pid),
			"every client is answered while the others stay connected")
		backends[pid] = true
	}
	require.LessOrEqual(t, len(backends), size, "%d clients shared at most %d backends", len(conns), size)
	pool := dbtest.PgBouncerPool(t, through)
	require.Equal(t, "transaction", pool.Mode)
	require.Equal(t, len(conns), pool.Clients)
	require.LessOrEqual(t, pool.Servers, size)
}

// TestConnectThroughPgBouncer: with TransactionPooling, the pool works through PgBouncer in transaction pooling
// mode (1.18: no prepared statements, no unknown startup parameters): statements and their uuid codec run on
// whichever server connection is free, a transaction's statements take the statement timeout from BeginQuery, and
// it stays behind on no server connection.
func TestConnectThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	through := dbtest.ThroughPgBouncer(t, dbtest.NewURL(t))
	cfg := config.DBConfig{
		MaxConns: 8, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 2 * time.Second,
		WaitTimeout: 300 * time.Millisecond, StatementTimeout: 200 * time.Millisecond,
	}

	// As a startup parameter, the statement timeout is refused; the error says what to do.
	_, err := postgres.Connect(ctx, through, cfg, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "unsupported startup parameter: statement_timeout")
	require.ErrorContains(t, err, "DATABASE_SESSION_URL")

	cfg.TransactionPooling = true
	logger, logs := logtest.New()
	pool, err := postgres.Connect(ctx, through, cfg, logger)
	require.NoError(t, err)
	defer pool.Close()
	require.Contains(t, logs.String(), "statements outside transactions run with the server's statement_timeout",
		"the server's own timeout is none: said at start")
	require.Equal(t, pgx.QueryExecModeCacheDescribe, pool.Config().ConnConfig.DefaultQueryExecMode)
	chosen, err := postgres.Connect(ctx, through+"&default_query_exec_mode=exec", cfg, logger)
	require.NoError(t, err)
	require.Equal(t, pgx.QueryExecModeExec, chosen.Config().ConnConfig.DefaultQueryExecMode, "the URL's own choice")
	chosen.Close()

	// Eight clients, fewer server connections: each statement runs wherever it lands, again and again.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				id := uuid.New()
				var got uuid.UUID
				var n int
				if err := pool.QueryRow(ctx, "SELECT $1::uuid, (SELECT count(*) FROM users WHERE id = $1)", id).Scan(&got, &n); err != nil {
					t.Error(err)
					return
				}
				if got != id {
					t.Errorf("read %s for %s", got, id)
				}
			}
		})
	}
	wg.Wait()

	tx, err := pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: postgres.BeginQuery(cfg.StatementTimeout)})
	require.NoError(t, err)
	start := time.Now()
	_, err = tx.Exec(ctx, "SELECT pg_sleep(5)")
	requireCancelled(t, err)
	require.Less(t, time.Since(start), 3*time.Second)
	require.NoError(t, tx.Rollback(ctx))
	for range 20 {
		var setting string
		require.NoError(t, pool.QueryRow(ctx, "SELECT current_setting('statement_timeout')").Scan(&setting))
		require.Equal(t, "0", setting, "SET LOCAL ended with its transaction")
	}
}

// TestRoleTimeoutThroughPgBouncer: what docs/pgbouncer.md recommends for the statements outside transactions, a
// statement_timeout set on the database (or role), reaches them through PgBouncer; Connect then warns of nothing.
func TestRoleTimeoutThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := dbtest.NewURL(t)
	through := dbtest.ThroughPgBouncer(t, direct)
	u, err := url.Parse(direct)
	require.NoError(t, err)
	admin, err := pgx.Connect(ctx, direct)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()+" SET statement_timeout = '200ms'")
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))

	logger, logs := logtest.New()
	pool, err := postgres.Connect(ctx, through, config.DBConfig{
		MaxConns: 2, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 2 * time.Second,
		WaitTimeout: 5 * time.Second, StatementTimeout: 200 * time.Millisecond, TransactionPooling: true,
	}, logger)
	require.NoError(t, err)
	defer pool.Close()
	require.NotContains(t, logs.String(), "statement_timeout")
	_, err = pool.Exec(ctx, "SELECT pg_sleep(5)")
	requireCancelled(t, err)
}

func requireCancelled(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, "57014", pgErr.Code, "cancelled by statement_timeout")
}
