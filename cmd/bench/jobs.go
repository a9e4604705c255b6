package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
)

type noopSender struct{}

func (noopSender) Send(context.Context, mail.Message) error { return nil }

// workers returns a River client that works every queue (100 workers each; email through a no-op transport,
// webhooks to any address, loopback included) and the services over pool, wired to each other as cmd/junction
// wires them. The client is not started.
func workers(pool *pgxpool.Pool) (*jobs.Client, *wire.Services, error) {
	templates, err := mail.NewTemplates()
	if err != nil {
		return nil, nil, err
	}
	sealer, err := auth.NewSealer([]byte("a bench secret that is 32 bytes long"))
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	local := outbound.Policy{AllowPrivate: true}
	workerServices := &jobs.Services{}
	client, err := jobs.NewClient(pool, jobs.Config{
		Work: true, WebhookRetryBase: time.Second,
		JobsConfig: config.JobsConfig{
			EmailConcurrency: 100, EmailRetryBase: time.Second, CompletedRetention: time.Hour, DiscardedRetention: time.Hour,
			JobTimeout: time.Minute, RescueStuckAfter: time.Hour, FetchCooldown: 10 * time.Millisecond,
		},
		WebhookClient: outbound.NewClient(local, 0, 0, 100), WebhookConcurrency: 100,
		Templates: templates, Sender: noopSender{}, MailDomain: "bench.local", BaseURL: "http://bench.local",
		Services: workerServices, Open: sealer.Open, Logger: logger,
	})
	if err != nil {
		return nil, nil, err
	}
	svcs := wire.New(wire.Deps{
		Pool: pool, Jobs: client, Sealer: sealer, Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}),
		WebhookTargets: local, Logger: logger,
	})
	*workerServices = jobs.Services{Billing: svcs.Billing, Accounts: svcs.Accounts, Emails: svcs.Emails, Endpoints: svcs.Endpoints, Idempotency: svcs.Idempotency}
	return client, svcs, nil
}

// servicePool opens a pool as the service does (postgres.Connect: its settings and the types it registers), of
// conns connections (0 for pgx's default).
func servicePool(ctx context.Context, dbURL string, conns int32) (*pgxpool.Pool, error) {
	if conns == 0 {
		conns = int32(max(4, runtime.NumCPU()))
	}
	return postgres.Connect(ctx, dbURL, config.DBConfig{
		MaxConns: conns, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 5 * time.Second,
		WaitTimeout: 10 * time.Second,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// perSecond waits until count (a query returning one number) reaches n, and returns n per second since begin.
func perSecond(ctx context.Context, pool *pgxpool.Pool, count string, n int, begin time.Time) (float64, error) {
	for {
		var done int
		if err := pool.QueryRow(ctx, count).Scan(&done); err != nil {
			return 0, err
		}
		if done >= n {
			return float64(n) / time.Since(begin).Seconds(), nil
		}
		if time.Since(begin) > 5*time.Minute {
			return 0, fmt.Errorf("only %d of %d done in 5 minutes (%s)", done, n, count)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobThroughput inserts n email jobs, then works them with a no-op transport and returns jobs completed per second.
func jobThroughput(ctx context.Context, dbURL string, n int) (float64, error) {
	pool, err := servicePool(ctx, dbURL, 0)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	// The email worker records deliveries through the emails service, as in production.
	client, _, err := workers(pool)
	if err != nil {
		return 0, err
	}
	if _, err := pool.Exec(ctx, "DELETE FROM river_job"); err != nil {
		return 0, err
	}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: service.EmailArgs{Type: service.EmailWelcome, To: fmt.Sprintf("u%d@example.com", i), Name: "Bench"}}
	}
	for start := 0; start < n; start += 1000 {
		if _, err := client.InsertMany(ctx, params[start:min(start+1000, n)]); err != nil {
			return 0, fmt.Errorf("insert jobs: %w", err)
		}
	}
	begin := time.Now()
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	defer func() { _ = client.Stop(context.WithoutCancel(ctx)) }()
	return perSecond(ctx, pool, "SELECT count(*) FROM river_job WHERE state = 'completed'", n, begin)
}
