package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
)

// deliveryThroughput measures outgoing webhooks end to end: posts published (writers at once) by an author whose
// endpoints (perPost, to one local receiver) take post.published; each write records its event and fan-out job
// in its transaction, the fan-out makes a delivery per endpoint, and each delivery is signed, POSTed and recorded.
// It returns deliveries recorded as succeeded per second, from the first write to the last record.
func deliveryThroughput(ctx context.Context, dbURL string, dbConns, posts, perPost int) (float64, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return 0, err
	}
	cfg.MaxConns = int32(dbConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	var received atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	templates, err := mail.NewTemplates()
	if err != nil {
		return 0, err
	}
	sealer, err := auth.NewSealer([]byte("a bench secret that is 32 bytes long"))
	if err != nil {
		return 0, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	local := outbound.Policy{AllowPrivate: true}
	workerServices := &jobs.Services{}
	client, err := jobs.NewClient(pool, jobs.Config{
		Work: true, WebhookRetryBase: time.Second,
		JobsConfig: config.JobsConfig{
			EmailConcurrency: 10, EmailRetryBase: time.Second, CompletedRetention: time.Hour, DiscardedRetention: time.Hour,
			JobTimeout: time.Minute, RescueStuckAfter: time.Hour, FetchCooldown: 10 * time.Millisecond,
		},
		WebhookClient: outbound.NewClient(local, 0, 0), WebhookConcurrency: 100,
		Templates: templates, Sender: noopSender{}, MailDomain: "bench.local", BaseURL: "http://bench.local",
		Services: workerServices, Open: sealer.Open, Logger: logger,
	})
	if err != nil {
		return 0, err
	}
	svcs := wire.New(wire.Deps{
		Pool: pool, Jobs: client, Sealer: sealer, Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}),
		WebhookTargets: local, Logger: logger,
	})
	*workerServices = jobs.Services{Billing: svcs.Billing, Accounts: svcs.Accounts, Emails: svcs.Emails, Endpoints: svcs.Endpoints}
	for _, q := range []string{"DELETE FROM river_job", "DELETE FROM webhook_messages"} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return 0, err
		}
	}
	u, err := svcs.Users.Create(ctx, service.CreateUserInput{
		Name: "Bench author", Email: fmt.Sprintf("hooks-%d@bench.local", time.Now().UnixNano()), Password: "long enough",
	})
	if err != nil {
		return 0, err
	}
	author := service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: service.RoleUser})
	for range perPost {
		if _, err := svcs.Endpoints.Create(author, service.CreateWebhookEndpointInput{
			URL: receiver.URL + "/hooks", EventTypes: []service.WebhookEventType{service.WebhookPostPublished},
		}); err != nil {
			return 0, err
		}
	}
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	defer func() { _ = client.Stop(context.WithoutCancel(ctx)) }()

	const writers = 8
	begin := time.Now()
	var wg sync.WaitGroup
	var writeErr atomic.Value
	next := atomic.Int64{}
	for range writers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(posts); i = next.Add(1) {
				if _, err := svcs.Posts.Create(author, service.CreatePostInput{Title: fmt.Sprintf("Post %d", i), Content: "Bench", Published: true}); err != nil {
					writeErr.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := writeErr.Load().(error); err != nil {
		return 0, fmt.Errorf("write posts: %w", err)
	}
	want := posts * perPost
	for {
		var done int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'").Scan(&done); err != nil {
			return 0, err
		}
		if done >= want {
			return float64(want) / time.Since(begin).Seconds(), nil
		}
		if time.Since(begin) > 5*time.Minute {
			return 0, fmt.Errorf("only %d of %d deliveries recorded in 5 minutes (%d received)", done, want, received.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
