package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/mailtest"
	"github.com/junction-dev/junction/impl/webhook"
)

// TestThroughPgBouncer runs two instances of the real program over one database with DATABASE_URL through
// PgBouncer in transaction pooling mode (1.18: no prepared statements, no unknown startup parameters) and
// DATABASE_SESSION_URL direct, as docs/pgbouncer.md describes. They migrate a blank database over the session
// URL, then serve REST writes and reads, a GraphQL subscription on one instance fed by a write on the other (a
// NOTIFY in the writing transaction, heard by the direct LISTEN), an email job (River through the pooler, its
// LISTEN direct), an incoming Stripe webhook, an outgoing webhook delivery, and Idempotency-Key replays, racing
// ones included (the key's lock is its transaction's). Their many client connections share the pool's few
// server connections, which shows that the pooling is really by transaction.
func TestThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := dbtest.NewURL(t)
	through := dbtest.ThroughPgBouncer(t, direct)
	conn, err := pgxpool.New(ctx, direct) // the test's own look at the rows, direct
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	_, err = conn.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	// As docs/pgbouncer.md recommends: the statements outside transactions take the database's timeout.
	_, err = conn.Exec(ctx, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '10s'); END $$")
	require.NoError(t, err)

	smtp := mailtest.Start(t)
	var mu sync.Mutex
	var hookSecret string
	var hooks []string // the verified deliveries' bodies
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(hookSecret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		hooks = append(hooks, string(body))
	}))
	t.Cleanup(receiver.Close)

	const stripeSecret = "whsec_through_pgbouncer"
	vars := map[string]string{
		"DATABASE_URL": through, "DATABASE_SESSION_URL": direct, "SMTP_URL": smtp.URL(),
		"STRIPE_WEBHOOK_SECRET": stripeSecret, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
		"WEBHOOK_RETRY_SCHEDULE": "200ms,200ms", "RATE_LIMIT_DEFAULT": "100000",
	}
	a := startServe(t, vars)
	b := startServe(t, vars)

	// REST: a sign-up on A (its welcome email is a job), a sign-in on B.
	status, body := a.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	_, tok := b.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`)
	bearer := []string{"Authorization", "Bearer " + tok["accessToken"].(string)}
	welcome := smtp.WaitAccepted(t, 1, 20*time.Second)
	require.Equal(t, "Welcome to Junction, Ada", welcome[0].Header.Get("Subject"))

	// An outgoing webhook endpoint, saved on B.
	status, ep := b.post(t, "/api/webhook-endpoints", `{"url":"`+receiver.URL+`/hook","eventTypes":["post.published"]}`, bearer...)
	require.Equal(t, http.StatusCreated, status, "%v", ep)
	mu.Lock()
	hookSecret = ep["data"].(map[string]any)["secret"].(string)
	mu.Unlock()

	// A subscriber on A hears a post written on B.
	sub := subscribe(t, a.base, tok["accessToken"].(string), `subscription { postCreated { title } }`)
	post := `{"title":"Through PgBouncer","content":"Pooled by transaction.","published":true}`
	first := send(t, http.MethodPost, b.base+"/api/posts", post, append(bearer, "Idempotency-Key", "one-post")...)
	require.Equal(t, http.StatusCreated, first.status, string(first.body))
	require.Equal(t, "Through PgBouncer", sub.next(t)["postCreated"].(map[string]any)["title"])

	// The retry, on the other instance, is the first answer again; the post exists once.
	again := send(t, http.MethodPost, a.base+"/api/posts", post, append(bearer, "Idempotency-Key", "one-post")...)
	require.Equal(t, http.StatusCreated, again.status, string(again.body))
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.body), string(again.body))
	var created struct{ Data struct{ ID string } }
	require.NoError(t, json.Unmarshal(first.body, &created))
	read := send(t, http.MethodGet, a.base+"/api/posts/"+created.Data.ID, "")
	require.Equal(t, http.StatusOK, read.status, string(read.body))
	require.Contains(t, string(read.body), "Pooled by transaction.")

	// Eight requests with one key at once, on both instances: one writes, the others replay it or are told that
	// it runs (409), never a second post.
	race := `{"title":"Raced","content":"Once.","published":false}`
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for i := range 8 {
		base := []string{a.base, b.base}[i%2]
		wg.Go(func() {
			statuses <- send(t, http.MethodPost, base+"/api/posts", race, append(bearer, "Idempotency-Key", "raced")...).status
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, s)
	}
	var raced int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM posts WHERE title = 'Raced'").Scan(&raced))
	require.Equal(t, 1, raced)

	// The published post's webhook reaches the receiver, signed.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hooks) == 1 && strings.Contains(hooks[0], "Through PgBouncer")
	}, 20*time.Second, 20*time.Millisecond, "the outgoing webhook was delivered")

	// A Stripe delivery on A is stored, and its job (worked by either instance) applies it.
	now := time.Now()
	event := fmt.Sprintf(`{"id":"evt_pgb","object":"event","type":"payment_intent.succeeded","created":%d,"livemode":false,`+
		`"data":{"object":{"id":"pi_pgb","amount":2000,"currency":"usd","status":"succeeded"}}}`, now.Unix())
	stripe := send(t, http.MethodPost, a.base+"/api/webhooks/stripe", event, "Stripe-Signature", webhook.Sign([]byte(stripeSecret), now, []byte(event)))
	require.Equal(t, http.StatusOK, stripe.status, string(stripe.body))
	require.Eventually(t, func() bool {
		var status, payment string
		err := conn.QueryRow(ctx, `SELECT e.status, p.status FROM webhook_events e, payments p
			WHERE e.event_id = 'evt_pgb' AND p.stripe_id = 'pi_pgb'`).Scan(&status, &payment)
		return err == nil && status == "processed" && payment == "succeeded"
	}, 20*time.Second, 20*time.Millisecond, "the Stripe event was processed")

	// Reads on both instances at once: many clients, few server connections.
	for i := range 40 {
		base := []string{a.base, b.base}[i%2]
		wg.Go(func() {
			r := send(t, http.MethodGet, base+"/api/posts/"+created.Data.ID, "")
			if r.status != http.StatusOK {
				t.Errorf("read: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	pool := dbtest.PgBouncerPool(t, through)
	require.Equal(t, "transaction", pool.Mode)
	require.LessOrEqual(t, pool.Servers, pool.Size)
	require.Greater(t, pool.Clients, pool.Size, "the instances' %d connections shared at most %d server connections", pool.Clients, pool.Size)
	t.Logf("%d client connections on %d server connections (pool size %d)", pool.Clients, pool.Servers, pool.Size)

	for _, s := range []*server{a, b} {
		for _, bad := range []string{"prepared statement", "unsupported startup parameter", "statement_timeout", `"level":"ERROR"`} {
			require.NotContains(t, s.logs.String(), bad)
		}
	}
	require.NoError(t, a.stop())
	require.NoError(t, b.stop())
}

// TestMigrateThroughPgBouncer: `junction migrate` takes its lock and migrates over DATABASE_SESSION_URL; with
// DATABASE_URL through PgBouncer and no session URL it is refused at once, and told what to set.
func TestMigrateThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := dbtest.NewURL(t)
	through := dbtest.ThroughPgBouncer(t, direct)
	conn, err := pgxpool.New(ctx, direct)
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	_, err = conn.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)

	var out strings.Builder
	err = run(ctx, []string{"migrate"}, env(map[string]string{"DATABASE_URL": through, "DB_WAIT_TIMEOUT": "1s"}), &out)
	require.ErrorContains(t, err, "set DATABASE_SESSION_URL")
	require.NoError(t, run(ctx, []string{"migrate"}, env(map[string]string{"DATABASE_URL": through, "DATABASE_SESSION_URL": direct}), &out))
	require.Contains(t, out.String(), "migration applied")
	var version int64
	require.NoError(t, conn.QueryRow(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&version))
	require.Positive(t, version)
}

// answer is one HTTP exchange.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func send(t *testing.T, method, url, body string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// subscription is one GraphQL subscription over graphql-transport-ws.
type subscription struct{ conn *websocket.Conn }

func subscribe(t *testing.T, base, token, query string) *subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	s := &subscription{conn: conn}
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}))
	require.Equal(t, "connection_ack", s.read(t, ctx)["type"])
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}}))
	time.Sleep(200 * time.Millisecond) // the server registers the subscriber before the test writes
	return s
}

// next returns the data of the subscription's next event.
func (s *subscription) next(t *testing.T) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := s.read(t, ctx)
	require.Equal(t, "next", msg["type"], "%v", msg)
	return msg["payload"].(map[string]any)["data"].(map[string]any)
}

func (s *subscription) read(t *testing.T, ctx context.Context) map[string]any {
	t.Helper()
	for {
		var msg map[string]any
		require.NoError(t, wsjson.Read(ctx, s.conn, &msg))
		if msg["type"] != "ping" && msg["type"] != "pong" {
			return msg
		}
	}
}
