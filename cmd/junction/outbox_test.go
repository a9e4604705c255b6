package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
)

// TestOutboxSurvivesKills: the API process is killed (SIGKILL) right after its writes commit, and then the worker
// while deliveries are in flight at the receiver (sent, not yet recorded). After a restart every event is
// delivered, verified by the official Standard Webhooks library, at least once; no delivery is lost, and only
// those caught in flight may arrive twice.
func TestOutboxSurvivesKills(t *testing.T) {
	t.Parallel()
	const posts = 60
	ctx := context.Background()
	bin := buildJunction(t)
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	var mu sync.Mutex
	got := map[string]int{} // webhook-id → verified arrivals
	var secret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(150 * time.Millisecond) // so that the worker dies with requests in flight
		mu.Lock()
		defer mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got[r.Header.Get("webhook-id")]++
	}))
	t.Cleanup(receiver.Close)
	arrived := func() (events, requests int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range got {
			events++
			requests += n
		}
		return events, requests
	}

	start := func(command string, vars ...string) *exec.Cmd {
		cmd := exec.Command(bin, command)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "APP_ENV=development", "MAIL_TRANSPORT=log",
			"JWT_SECRET=an outbox crash test secret, 32 bytes", "LOG_LEVEL=warn", "ARGON2_MEMORY_KIB=64", "ARGON2_ITERATIONS=1",
			"WEBHOOK_RETRY_SCHEDULE=200ms,200ms,200ms", "WEBHOOK_CONCURRENCY=20", "RATE_LIMIT_DEFAULT=100000",
			// A job running when its process died is returned to the queue once the dead leader's term ends.
			"JOB_TIMEOUT=2s", "JOB_RESCUE_STUCK_AFTER=3s")
		cmd.Env = append(cmd.Env, vars...)
		logs := &logtest.Buffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
	}

	port := freePort(t)
	api := start("serve", "PORT="+strconv.Itoa(port))
	s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	_, tok := s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`)
	bearer := []string{"Authorization", "Bearer " + tok["accessToken"].(string)}
	status, ep := s.post(t, "/api/webhook-endpoints", `{"url":"`+receiver.URL+`/hook","eventTypes":["post.published"]}`, bearer...)
	require.Equal(t, http.StatusCreated, status, "%v", ep)
	mu.Lock()
	secret = ep["data"].(map[string]any)["secret"].(string)
	mu.Unlock()

	var wg sync.WaitGroup
	for i := range posts {
		wg.Go(func() {
			status, _ := s.post(t, "/api/posts", fmt.Sprintf(`{"title":"Post %d","content":"x","published":true}`, i), bearer...)
			require.Equal(t, http.StatusCreated, status)
		})
	}
	wg.Wait()
	kill(api) // every write committed; its fan-outs and deliveries are wherever they were

	worker := start("worker")
	require.Eventually(t, func() bool { n, _ := arrived(); return n >= posts/4 }, 60*time.Second, 10*time.Millisecond)
	kill(worker) // with deliveries in flight
	var inFlight int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind IN ('webhook_fanout', 'webhook_delivery') AND state = 'running'").Scan(&inFlight))
	t.Logf("at the worker's death: %d of %d events arrived, %d fan-out or delivery jobs in flight", func() int { n, _ := arrived(); return n }(), posts, inFlight)

	restarted := start("worker")
	settled := func() bool {
		var n int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'").Scan(&n)
		return err == nil && n == posts
	}
	if !assertEventually(t, settled, 90*time.Second) {
		var state string
		_ = pool.QueryRow(ctx, `SELECT (SELECT string_agg(status || ':' || n, ' ') FROM (SELECT status, count(*) n FROM webhook_deliveries GROUP BY 1) d) || ' | ' ||
			(SELECT string_agg(kind || '/' || state || ':' || n, ' ') FROM (SELECT kind, state::text, count(*) n FROM river_job GROUP BY 1, 2) j)`).Scan(&state)
		t.Fatalf("not every delivery succeeded: %s\n%s", state, restarted.Stdout)
	}
	events, requests := arrived()
	require.Equal(t, posts, events, "every event arrived")
	var messages, deliveries int
	require.NoError(t, pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM webhook_messages), (SELECT count(*) FROM webhook_deliveries)").Scan(&messages, &deliveries))
	require.Equal(t, posts, messages, "one event per write")
	require.Equal(t, posts, deliveries, "one delivery per event and endpoint, however often the fan-out ran")
	t.Logf("%d events, %d requests: %d sent twice", events, requests, requests-events)
}

// assertEventually reports whether cond held within d.
func assertEventually(t *testing.T, cond func() bool, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}
