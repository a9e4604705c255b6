package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/mailtest"
	"github.com/junction-dev/junction/impl/redistest"
	"github.com/junction-dev/junction/impl/webhook"
	"github.com/junction-dev/junction/sdk/go/retry"
)

// cluster is `junction serve` processes over one database behind a real HAProxy (scripts/localhaproxy.sh), as
// `make cluster` runs them: their queries through PgBouncer in transaction pooling mode (TEST_PGBOUNCER_URL; the
// test is skipped without it), what needs a session straight to PostgreSQL.
type cluster struct {
	t         *testing.T
	lb        string
	instances []*instance
	pool      *pgxpool.Pool
}

type instance struct {
	cmd  *exec.Cmd
	base string
	logs *logtest.Buffer
}

// startCluster starts n instances with env (on top of what every instance gets) and HAProxy in front of them, and
// returns once HAProxy sends to every one.
func startCluster(t *testing.T, n int, env ...string) *cluster {
	t.Helper()
	bin := buildJunction(t)
	dbURL := dbtest.NewURL(t)
	pooled := dbtest.ThroughPgBouncer(t, dbURL)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	c := &cluster{t: t, pool: pool}
	var backends []string
	for range n {
		port := freePort(t)
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+pooled, "DATABASE_SESSION_URL="+dbURL, "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn",
			"JWT_SECRET=one secret for the whole cluster, 32+", "ARGON2_MEMORY_KIB=64", "ARGON2_ITERATIONS=1",
			"SHUTDOWN_DRAIN_DELAY=2s", "APP_ENV=development", "WEBHOOK_RETRY_SCHEDULE=200ms,200ms,200ms",
			// A job running on an instance that died returns to the queue once its term ends.
			"JOB_TIMEOUT=2s", "JOB_RESCUE_STUCK_AFTER=3s", "EMAIL_RETRY_BASE=100ms")
		cmd.Env = append(cmd.Env, env...)
		in := &instance{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &logtest.Buffer{}}
		cmd.Stdout, cmd.Stderr = in.logs, in.logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		c.instances = append(c.instances, in)
		backends = append(backends, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for _, in := range c.instances {
		require.Eventually(t, func() bool { return status(in.base+"/readyz") == http.StatusOK }, 60*time.Second, 50*time.Millisecond,
			"%s", in.logs)
	}
	lbPort := freePort(t)
	script, err := filepath.Abs("../../scripts/localhaproxy.sh")
	require.NoError(t, err)
	haproxy := exec.Command(script, append([]string{t.TempDir(), strconv.Itoa(lbPort)}, backends...)...)
	logs := &logtest.Buffer{}
	haproxy.Stdout, haproxy.Stderr = logs, logs
	require.NoError(t, haproxy.Start())
	t.Cleanup(func() { _ = haproxy.Process.Kill(); _ = haproxy.Wait() })
	c.lb = fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	// HAProxy counts a server in after two passing checks: wait until a round of requests meets every instance.
	require.Eventually(t, func() bool { return status(c.lb+"/readyz") == http.StatusOK }, 30*time.Second, 50*time.Millisecond, "%s", logs)
	time.Sleep(1500 * time.Millisecond)
	return c
}

func status(url string) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// call is one request of the traffic, with when it started and ended, for telling what was in flight when.
type call struct {
	what       string
	start, end time.Time
	status     int
	err        error
	id         string // what it made, when it made something
}

func (c call) failed() bool { return c.err != nil || c.status >= 500 }

// callAPI makes one JSON request and returns its call, the answer's data.id (or id) when there is one.
func callAPI(client *http.Client, what, method, url, body string, headers ...string) call {
	c := call{what: what, start: time.Now()}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		c.err = err
		return c
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	c.end = time.Now()
	if err != nil {
		c.err = err
		return c
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
		AccessToken string `json:"accessToken"`
	}
	data, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(data, &out) == nil {
		c.id = out.Data.ID
		if c.id == "" {
			c.id = out.AccessToken
		}
	}
	return c
}

// TestAClusterLosesNothingWhenInstancesDie: three instances sharing one Redis spend one sign-in budget; then
// mixed traffic (sign-ups, posts, comments, Stripe webhooks in, webhooks out, a GraphQL subscription) goes
// through HAProxy while one instance is killed (SIGKILL) and another told to stop (SIGTERM). The only failures are requests in flight on the killed process; the stopped one drains with
// none; every committed write is there, every job of it ran (welcome emails, outgoing webhooks), and the
// subscriber on the surviving instance heard of every post.
func TestAClusterLosesNothingWhenInstancesDie(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	smtp := mailtest.Start(t)
	const stripeSecret = "whsec_cluster_test"
	const signInQuota = 6

	var mu sync.Mutex
	published := map[string]bool{} // post ids the receiver heard of, verified
	var endpointSecret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(endpointSecret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var msg struct {
			Type string `json:"type"`
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &msg)
		published[msg.Data.ID] = true
	}))
	t.Cleanup(receiver.Close)

	c := startCluster(t, 3, "SMTP_URL="+smtp.URL(), "STRIPE_WEBHOOK_SECRET="+stripeSecret, "REDIS_URL="+redistest.Start(t).URL(),
		"RATE_LIMIT_DEFAULT=1000000", "RATE_LIMIT_SIGNUP=1000000", "RATE_LIMIT_LOGIN="+strconv.Itoa(signInQuota))
	killed, stopped, survivor := c.instances[0], c.instances[1], c.instances[2]
	// The Go SDK's transport, as a client of the API would have: it keys every write the contract takes a key for.
	tr := retry.New(nil)
	tr.BaseDelay = 50 * time.Millisecond
	client := &http.Client{Timeout: 20 * time.Second, Transport: tr}

	signUp := callAPI(client, "sign-up", http.MethodPost, c.lb+"/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, signUp.status, "%v", signUp.err)
	token := callAPI(client, "sign-in", http.MethodPost, c.lb+"/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`).id
	require.NotEmpty(t, token)
	bearer := []string{"Authorization", "Bearer " + token}
	req, _ := http.NewRequest(http.MethodPost, c.lb+"/api/webhook-endpoints",
		strings.NewReader(`{"url":"`+receiver.URL+`/hook","eventTypes":["post.published"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	require.NoError(t, err)
	var ep struct{ Data struct{ Secret string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ep))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	mu.Lock()
	endpointSecret = ep.Data.Secret
	mu.Unlock()
	first := callAPI(client, "post", http.MethodPost, c.lb+"/api/posts", `{"title":"The first","content":"x","published":true}`, bearer...)
	require.Equal(t, http.StatusCreated, first.status)

	// Sign-in guesses, spread by HAProxy over the three instances, spend one budget kept in Redis: the client's
	// quota less the sign-in above, not three times it.
	guesses := map[int]int{}
	plain := &http.Client{Timeout: 10 * time.Second}
	for range 3 * signInQuota {
		guesses[callAPI(plain, "guess", http.MethodPost, c.lb+"/api/auth/token", `{"email":"ada@example.com","password":"a wrong guess"}`).status]++
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: signInQuota - 1, http.StatusTooManyRequests: 2*signInQuota + 1}, guesses,
		"one sign-in budget for the cluster")

	// One subscriber on the instance that survives, and three through HAProxy, which spreads them over the three
	// instances: the posts reach every instance's subscribers from the others through the database's NOTIFY.
	heard, _ := subscribePosts(t, survivor.base, token)
	type viaLB struct{ heard, ended func(string) bool }
	var balanced []viaLB
	for range 3 {
		h, e := subscribePosts(t, c.lb, token)
		balanced = append(balanced, viaLB{h, func(string) bool { return e() }})
	}

	var calls []call
	var callsMu sync.Mutex
	record := func(cl call) { callsMu.Lock(); calls = append(calls, cl); callsMu.Unlock() }
	var stop atomic.Bool
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				n := seq.Add(1)
				switch i % 4 {
				case 0:
					record(callAPI(client, "post", http.MethodPost, c.lb+"/api/posts",
						fmt.Sprintf(`{"title":"Post %d","content":"x","published":true}`, n), bearer...))
				case 1:
					record(callAPI(client, "sign-up", http.MethodPost, c.lb+"/api/users",
						fmt.Sprintf(`{"name":"U%d","email":"u%d@example.com","password":"long enough"}`, n, n)))
				case 2:
					record(callAPI(client, "comment", http.MethodPost, c.lb+"/api/posts/"+first.id+"/comments",
						fmt.Sprintf(`{"content":"Comment %d from worker %d"}`, n, w), bearer...))
				case 3:
					now := time.Now()
					body := fmt.Sprintf(`{"id":"evt_%d","object":"event","type":"payment_intent.succeeded","created":%d,"livemode":false,"data":{"object":{"id":"pi_%d","amount":100,"currency":"usd","status":"succeeded"}}}`, n, now.Unix(), n)
					cl := callAPI(client, "stripe", http.MethodPost, c.lb+"/api/webhooks/stripe", body,
						"Stripe-Signature", webhook.Sign([]byte(stripeSecret), now, []byte(body)))
					cl.id = fmt.Sprintf("evt_%d", n)
					record(cl)
				}
			}
		})
	}
	time.Sleep(2500 * time.Millisecond)
	killedAt := time.Now()
	require.NoError(t, killed.cmd.Process.Signal(syscall.SIGKILL))
	time.Sleep(2500 * time.Millisecond)
	termAt := time.Now()
	require.NoError(t, stopped.cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(4 * time.Second) // the drain (2 s), the stop, and traffic on the survivor alone
	stop.Store(true)
	wg.Wait()
	exited := make(chan error, 1)
	go func() { exited <- stopped.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "the stopped instance exits 0:\n%s", stopped.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("the stopped instance did not exit\n%s", stopped.logs)
	}

	// The only failures were in flight on the killed process: begun before it died, ended after.
	var failed, ok int
	byWhat := map[string][]string{}
	for _, cl := range calls {
		if !cl.failed() {
			require.Less(t, cl.status, 300, "%s: %d", cl.what, cl.status)
			ok++
			byWhat[cl.what] = append(byWhat[cl.what], cl.id)
			continue
		}
		failed++
		inFlight := cl.start.Before(killedAt) && !cl.end.Before(killedAt)
		require.True(t, inFlight || cl.err != nil && cl.start.Before(killedAt),
			"%s failed (%d, %v) without being in flight on the killed instance: %s..%s, killed at %s, stopped at %s",
			cl.what, cl.status, cl.err, cl.start.Format(time.StampMilli), cl.end.Format(time.StampMilli),
			killedAt.Format(time.StampMilli), termAt.Format(time.StampMilli))
	}
	require.LessOrEqual(t, failed, 8, "at most one request per client was in flight")
	t.Logf("%d requests answered, %d lost with the killed instance", ok, failed)
	var twice int
	require.NoError(t, c.pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT title FROM posts GROUP BY title HAVING count(*) > 1) d").Scan(&twice))
	require.Zero(t, twice, "no post was written twice, however its request was retried")
	for _, what := range []string{"post", "sign-up", "comment", "stripe"} {
		require.NotEmpty(t, byWhat[what], "traffic of every kind: %s", what)
	}

	// Every answered write is there.
	for what, query := range map[string]string{
		"post":    "SELECT count(*) FROM posts WHERE id = ANY($1::uuid[])",
		"sign-up": "SELECT count(*) FROM users WHERE id = ANY($1::uuid[])",
		"comment": "SELECT count(*) FROM comments WHERE id = ANY($1::uuid[])",
		"stripe":  "SELECT count(*) FROM webhook_events WHERE provider = 'stripe' AND event_id = ANY($1::text[])",
	} {
		var n int
		require.NoError(t, c.pool.QueryRow(ctx, query, byWhat[what]).Scan(&n), what)
		require.Equal(t, len(byWhat[what]), n, "every answered %s committed", what)
	}

	// Every committed write's jobs ran on the instance left: a welcome email for every user, a webhook for every
	// published post, and the subscriber heard of every post.
	var users, posts []string
	require.Eventually(t, func() bool {
		users = column(t, c.pool, "SELECT lower(email) FROM users")
		mailed := map[string]bool{}
		for _, m := range smtp.All() {
			for _, to := range m.To {
				if m.Accepted {
					mailed[strings.ToLower(strings.Trim(to, "<>"))] = true
				}
			}
		}
		for _, u := range users {
			if !mailed[u] {
				return false
			}
		}
		return true
	}, 90*time.Second, 100*time.Millisecond, "every user got a welcome email (a job running on the killed instance waits for the rescuer)")
	arrived := func() bool {
		posts = column(t, c.pool, "SELECT id::text FROM posts")
		mu.Lock()
		defer mu.Unlock()
		for _, p := range posts {
			if !published[p] {
				return false
			}
		}
		return true
	}
	if !assertEventually(t, arrived, 90*time.Second) {
		var state string
		_ = c.pool.QueryRow(ctx, `SELECT coalesce((SELECT string_agg(status || ':' || n, ' ') FROM (SELECT status, count(*) n FROM webhook_deliveries GROUP BY 1) d), '') || ' | ' ||
			coalesce((SELECT string_agg(kind || '/' || state || ':' || n, ' ') FROM (SELECT kind, state::text, count(*) n FROM river_job GROUP BY 1, 2) j), '') || ' | ' ||
			(SELECT count(*)::text FROM webhook_messages)`).Scan(&state)
		t.Fatalf("not every published post reached the receiver: deliveries | jobs | messages: %s\n%s", state, survivor.logs)
	}
	require.Eventually(t, func() bool {
		for _, p := range posts {
			if p != first.id && !heard(p) {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "the survivor's subscriber heard of every post")
	// Through HAProxy: the subscriptions on the instances that went away ended (a client reconnects); the one
	// that stayed heard of every post too.
	var open, ended int
	for _, b := range balanced {
		if b.ended("") {
			ended++
			continue
		}
		open++
		require.Eventually(t, func() bool {
			for _, p := range posts {
				if p != first.id && !b.heard(p) {
					return false
				}
			}
			return true
		}, 10*time.Second, 50*time.Millisecond, "a subscriber through HAProxy that stayed connected heard of every post")
	}
	require.Equal(t, 1, open, "one subscription through HAProxy was on the survivor")
	require.Equal(t, 2, ended, "the others ended with their instances")
	t.Logf("%d users, %d posts; emails, webhooks and subscription events for all", len(users), len(posts))
}

func column(t *testing.T, pool *pgxpool.Pool, query string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), query)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// subscribePosts subscribes to postCreated over graphql-transport-ws at base and returns whether a post id has
// been heard, and whether the subscription has ended (its connection closed).
func subscribePosts(t *testing.T, base, token string) (heard func(id string) bool, ended func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}))
	var ack map[string]any
	require.NoError(t, wsjson.Read(ctx, conn, &ack))
	require.Equal(t, "connection_ack", ack["type"])
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": "subscription { postCreated { id } }"}}))
	var mu sync.Mutex
	seen := map[string]bool{}
	var closed atomic.Bool
	go func() {
		defer closed.Store(true)
		for {
			var msg struct {
				Type    string `json:"type"`
				Payload struct {
					Data struct {
						PostCreated struct {
							ID string `json:"id"`
						} `json:"postCreated"`
					} `json:"data"`
				} `json:"payload"`
			}
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				return
			}
			if msg.Type == "next" {
				mu.Lock()
				seen[msg.Payload.Data.PostCreated.ID] = true
				mu.Unlock()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // registered before the traffic starts
	return func(id string) bool { mu.Lock(); defer mu.Unlock(); return seen[id] }, closed.Load
}
