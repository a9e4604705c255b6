// Package postgres opens Junction's pgx pool, waiting for the database at start-up, and applies migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
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
// or cfg.WaitTimeout has passed, so that a service started alongside its database does not crash. tracers see
// every statement, connection and acquire besides the pool's own error log (see [Tracer]).
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
		pcfg.ConnConfig.Tracer = multitracer.New(append([]pgx.QueryTracer{errorLogger{logger: logger}}, tracers...)...)
	}
	pcfg.AfterConnect = AfterConnect
	if cfg.StatementTimeout > 0 {
		pcfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)
	}

	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: new pool: %w", err)
	}
	if err := waitReady(ctx, pool, cfg.WaitTimeout, logger); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
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
// schema is current.
func Migrate(ctx context.Context, appPool *pgxpool.Pool, logger *slog.Logger) error {
	// Migrations may run longer than the service's statement timeout (an index on a big table): their own pool.
	mcfg := appPool.Config()
	mcfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
	mcfg.MinConns = 0
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
