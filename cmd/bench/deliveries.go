package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/junction-dev/junction/impl/service"
)

// deliveryThroughput measures outgoing webhooks end to end: posts published (writers at once) by an author whose
// endpoints (perPost, to one local receiver) take post.published; each write records its event and fan-out job
// in its transaction, the fan-out makes a delivery per endpoint, and each delivery is signed, POSTed and recorded.
// It returns deliveries recorded as succeeded per second, from the first write to the last record.
func deliveryThroughput(ctx context.Context, dbURL string, o options, posts, perPost int) (float64, error) {
	pool, err := servicePool(ctx, dbURL, int32(o.deliveryConns))
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	client, svcs, err := workers(pool)
	if err != nil {
		return 0, err
	}
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
	write := func(n int) error {
		const writers = 8
		var wg sync.WaitGroup
		var writeErr atomic.Value
		next := atomic.Int64{}
		for range writers {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					if _, err := svcs.Posts.Create(author, service.CreatePostInput{Title: fmt.Sprintf("Post %d", i), Content: "Bench", Published: true}); err != nil {
						writeErr.Store(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err, _ := writeErr.Load().(error); err != nil {
			return fmt.Errorf("write posts: %w", err)
		}
		return nil
	}
	// A warm-up, then ANALYZE, as autovacuum does within a minute of a table's first rows: the run measures a
	// service that has been sending, not the first seconds of empty tables, whose plans PostgreSQL makes (and,
	// for foreign-key checks, keeps until the next ANALYZE) for tables with nothing in them.
	const warmUp = 200
	if err := write(warmUp); err != nil {
		return 0, err
	}
	const succeeded = "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"
	if _, err := perSecond(ctx, pool, succeeded, warmUp*perPost, time.Now()); err != nil {
		return 0, err
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return 0, err
	}
	if o.profile {
		// The run is in this process, so its profile is this process's.
		stop, err := profileSelf("deliveries")
		if err != nil {
			return 0, err
		}
		defer stop()
	}
	begin := time.Now()
	if err := write(posts); err != nil {
		return 0, err
	}
	log.Printf("webhook deliveries: %d posts written in %s, while their deliveries went out", posts, time.Since(begin).Round(time.Millisecond))
	perSec, err := perSecond(ctx, pool, succeeded, (warmUp+posts)*perPost, begin)
	return perSec * float64(posts) / float64(warmUp+posts), err
}
