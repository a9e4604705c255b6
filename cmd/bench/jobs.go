package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
)

type noopSender struct{}

func (noopSender) Send(context.Context, mail.Message) error { return nil }

// jobThroughput inserts n email jobs, then works them with a no-op transport and returns jobs completed per second.
func jobThroughput(ctx context.Context, dbURL string, n int) (float64, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	templates, err := mail.NewTemplates()
	if err != nil {
		return 0, err
	}
	// The email worker records deliveries through the emails service, as in production.
	workerServices := &jobs.Services{}
	client, err := jobs.NewClient(pool, jobs.Config{
		Work: true, WebhookRetryBase: time.Second,
		JobsConfig: config.JobsConfig{
			EmailConcurrency: 100, EmailRetryBase: time.Second, CompletedRetention: time.Hour, DiscardedRetention: time.Hour,
			JobTimeout: time.Minute, RescueStuckAfter: time.Hour, FetchCooldown: 10 * time.Millisecond,
		},
		Templates: templates, Sender: noopSender{}, MailDomain: "bench.local", BaseURL: "http://bench.local",
		Services: workerServices,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return 0, err
	}
	svcs := wire.New(wire.Deps{Pool: pool, Jobs: client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	*workerServices = jobs.Services{Billing: svcs.Billing, Accounts: svcs.Accounts, Emails: svcs.Emails, Endpoints: svcs.Endpoints}
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
	for {
		var done int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&done); err != nil {
			return 0, err
		}
		if done >= n {
			return float64(n) / time.Since(begin).Seconds(), nil
		}
		if time.Since(begin) > 5*time.Minute {
			return 0, fmt.Errorf("only %d of %d jobs completed in 5 minutes", done, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
