// Package postgres opens Junction's pgx pool, waiting for the database at start-up, and applies migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/migrations"
)

// Connect opens a pool on url sized by cfg and waits, with exponential backoff, until the database answers a ping
// or cfg.WaitTimeout has passed, so that a service started alongside its database does not crash.
//
// With cfg.TransactionPooling the pool's connections keep no session state, since a transaction pooler hands each
// transaction whichever server connection is free: statements run as unnamed ones (pgx's
// QueryExecModeCacheDescribe, unless url names another with default_query_exec_mode) and the statement timeout is
// not a startup parameter, which PgBouncer would refuse. The transactions the services open set it themselves
// ([BeginQuery]); the statements outside them get the server's own setting, which Connect then checks.
//
// tracers see every statement, connection and acquire besides the pool's own error log (see [Tracer]).
func Connect(ctx context.Context, url string, cfg config.DBConfig, logger *slog.Logger, tracers ...pgx.QueryTracer) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: never include it in the error.
		return nil, errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	pcfg.MaxConns = cfg.MaxConns
	pcfg.MinConns = cfg.MinConns
	pcfg.MaxConnIdleTime = cfg.MaxConnIdleTime
	pcfg.MaxConnLifetime = cfg.MaxConnLifetime
	pcfg.MaxConnLifetimeJitter = cfg.MaxConnLifetime / 10
	pcfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pcfg.ConnConfig.RuntimeParams == nil {
		pcfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = "junction"
	pcfg.ConnConfig.Tracer = errorLogger{logger: logger}
	if len(tracers) > 0 {
		// Only then: with tracing off, a statement pays for no tracer but the error log.
		tracers = slices.Clone(tracers)
		for i, t := range tracers {
			if s, ok := t.(sampledOnly); ok {
				tracers[i] = s.forPool(pcfg.ConnConfig)
			}
		}
		pcfg.ConnConfig.Tracer = multitracer.New(append([]pgx.QueryTracer{errorLogger{logger: logger}}, tracers...)...)
	}
	pcfg.AfterConnect = AfterConnect
	switch {
	case cfg.TransactionPooling:
		// A named statement prepared on one server connection is missing on the next (or already exists there,
		// prepared by another client). CacheDescribe is one round trip too, keeps the binary formats (and
		// RegisterUUID's codec), and knows each parameter's type from the server rather than guessing it from Go's.
		// A URL that names its mode keeps it: cache_statement suits a pooler that tracks prepared statements
		// itself (PgBouncer 1.21 and later, with max_prepared_statements).
		if !strings.Contains(url, "default_query_exec_mode=") {
			pcfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		}
	case cfg.StatementTimeout > 0:
		pcfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)
	}

	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: new pool: %w", err)
	}
	if err := waitReady(ctx, pool, cfg.WaitTimeout, logger); err != nil {
		pool.Close()
		if refusedStartupParameter(err) {
			return nil, fmt.Errorf("%w (through PgBouncer, set DATABASE_SESSION_URL to a direct connection: "+
				"DATABASE_URL then sends no statement_timeout; docs/pgbouncer.md)", err)
		}
		return nil, err
	}
	if cfg.TransactionPooling {
		checkServerTimeout(ctx, pool, cfg.StatementTimeout, logger)
	}
	return pool, nil
}

// refusedStartupParameter reports PgBouncer's refusal of a startup parameter it does not know.
func refusedStartupParameter(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "08P01" && strings.Contains(pgErr.Message, "unsupported startup parameter")
}

// ConnectSession opens a small pool of direct connections on url (DATABASE_SESSION_URL), for what holds a session
// of its own: LISTEN and the migrations' advisory lock. Each such user holds one connection at most, briefly or
// for good (River's notifier takes one out of the pool), so two are enough and none is kept idle.
func ConnectSession(ctx context.Context, url string, cfg config.DBConfig, logger *slog.Logger) (*pgxpool.Pool, error) {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return nil, errors.New("postgres: DATABASE_SESSION_URL is not a valid connection string") // nor its password
	}
	cfg.TransactionPooling = false
	cfg.MinConns, cfg.MaxConns = 0, 2
	pool, err := Connect(ctx, url, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("session connection (DATABASE_SESSION_URL): %w", err)
	}
	return pool, nil
}

// BeginQuery is the statement that opens a transaction whose statements end after timeout (0: the connection's
// own limit), as one simple-protocol round trip like BEGIN alone. SET LOCAL ends with the transaction, so it holds
// through a transaction pooler, where a session's SET would stay behind on a server connection for other clients.
func BeginQuery(timeout time.Duration) string {
	if timeout <= 0 {
		return "BEGIN"
	}
	return "BEGIN; SET LOCAL statement_timeout = " + strconv.FormatInt(timeout.Milliseconds(), 10)
}

// checkServerTimeout warns when the statements that run outside a transaction through a transaction pooler,
// which take the server's statement_timeout (its role's or database's), may run longer than want.
func checkServerTimeout(ctx context.Context, pool *pgxpool.Pool, want time.Duration, logger *slog.Logger) {
	if want <= 0 {
		return
	}
	var ms int64
	if err := pool.QueryRow(ctx, "SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'").Scan(&ms); err != nil {
		logger.WarnContext(ctx, "could not read the server's statement_timeout", "err", err)
		return
	}
	if got := time.Duration(ms) * time.Millisecond; got == 0 || got > want {
		logger.WarnContext(ctx, "through a transaction pooler, statements outside transactions run with the server's "+
			"statement_timeout, which is longer than DB_STATEMENT_TIMEOUT: set it on the role or database "+
			"(ALTER ROLE ... IN DATABASE ... SET statement_timeout = ...; docs/pgbouncer.md)",
			"server", got.String(), "DB_STATEMENT_TIMEOUT", want.String())
	}
}

func waitReady(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration, logger *slog.Logger) error {
	attempt := 0
	ping := func(ctx context.Context) error {
		attempt++
		err := pool.Ping(ctx)
		if err != nil {
			logger.WarnContext(ctx, "database not ready", "attempt", attempt, "err", err)
		}
		return err
	}
	err := retry.Do(ctx, ping, retry.Policy{
		MaxAttempts: math.MaxInt, Initial: 200 * time.Millisecond, Max: 5 * time.Second, MaxElapsed: timeout,
	})
	if err != nil {
		return fmt.Errorf("postgres: database not reachable: %w", err)
	}
	return nil
}

// Migrate applies every pending migration: River's own schema (its job tables), then the app's. It holds a
// Postgres advisory lock while it runs, so that instances starting together migrate once, and is a no-op when the
// schema is current. The lock is a session's: session must be a pool of direct connections (ConnectSession, or
// Connect without TransactionPooling), never one through a transaction pooler.
func Migrate(ctx context.Context, session *pgxpool.Pool, logger *slog.Logger) error {
	// Migrations may run longer than the service's statement timeout (an index on a big table): their own pool.
	mcfg := session.Config()
	mcfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
	mcfg.MinConns = 0
	// The lock below holds one connection while River's migrations and then goose (its own lock's) use others.
	mcfg.MaxConns = max(mcfg.MaxConns, 4)
	pool, err := pgxpool.NewWithConfig(ctx, mcfg)
	if err != nil {
		return fmt.Errorf("postgres: migration pool: %w", err)
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('junction-migrate'))"); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('junction-migrate'))") //nolint:errcheck

	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("postgres: river migrations: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("postgres: river migrate up: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "river migration applied", "version", v.Version, "duration", v.Duration.String())
	}
	return migrateApp(ctx, pool, logger)
}

func migrateApp(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate up: %w", err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration.String())
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation on the named constraint or index.
func IsUniqueViolation(err error, constraint string) bool {
	return hasCode(err, "23505") && constraintOf(err) == constraint
}
