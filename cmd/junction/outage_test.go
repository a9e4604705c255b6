package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/logtest"
)

// TestDatabaseOutage stops a dedicated PostgreSQL for 10 s under load: meanwhile /readyz is 503 and requests get
// 503 in the envelope within a bounded time; after the database returns the service recovers by itself within
// 5 s, and no committed write is lost.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	port := freePort(t)
	name := fmt.Sprintf("outage-%d", port)
	startPG := func() string {
		out, err := exec.Command(filepath.Join(root, "scripts/localpg.sh"), name, fmt.Sprint(port), "junction").Output()
		require.NoError(t, err)
		return strings.TrimSpace(string(out))
	}
	stopPG := func() {
		pgctl, err := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
		require.NoError(t, err)
		require.NotEmpty(t, pgctl)
		args := []string{pgctl[len(pgctl)-1], "-D", filepath.Join(root, ".data", name), "stop", "-m", "fast"}
		if os.Geteuid() == 0 {
			args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
		}
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	dbURL := startPG()
	t.Cleanup(func() {
		stopPG()
		_ = os.RemoveAll(filepath.Join(root, ".data", name))
		_ = os.Remove(filepath.Join(root, ".data", name+".log"))
	})

	bin := buildJunction(t)
	appPort := freePort(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, fmt.Sprintf("PORT=%d", appPort), "APP_ENV=development",
		"LOG_LEVEL=error", "ARGON2_MEMORY_KIB=64", "ARGON2_ITERATIONS=1", "RATE_LIMIT_DEFAULT=0",
		"RATE_LIMIT_SIGNUP=0", "AUTH_CACHE_TTL=0", "DB_CONNECT_TIMEOUT=1s", "REQUEST_TIMEOUT=3s", "DB_MIN_CONNS=2")
	logs := &logtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", appPort)
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, time.Duration) {
		start := time.Now()
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, time.Since(start)
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	require.Eventually(t, func() bool { s, _ := get("/readyz"); return s == 200 }, 30*time.Second, 50*time.Millisecond)

	// Writes committed before the outage.
	for i := range 5 {
		resp, err := client.Post(base+"/api/users", "application/json",
			strings.NewReader(fmt.Sprintf(`{"name":"U%d","email":"u%d@example.com","password":"long enough"}`, i, i)))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}

	resp, err := client.Post(base+"/api/auth/token", "application/json", strings.NewReader(`{"email":"u0@example.com","password":"long enough"}`))
	require.NoError(t, err)
	var signedIn struct{ AccessToken string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&signedIn))
	resp.Body.Close()

	// Load throughout.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var slowest atomic.Int64
	var fiveHundreds atomic.Int64
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				s, d := get("/api/posts")
				if s >= 500 && s != http.StatusServiceUnavailable {
					fiveHundreds.Add(1)
				}
				if int64(d) > slowest.Load() {
					slowest.Store(int64(d))
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}

	stopPG()
	require.Eventually(t, func() bool { s, _ := get("/readyz"); return s == http.StatusServiceUnavailable }, 5*time.Second, 50*time.Millisecond)
	status, took := get("/api/posts")
	require.Equal(t, http.StatusServiceUnavailable, status, "a request during the outage")
	require.Less(t, took, 5*time.Second, "answered within a bounded time")
	// GraphQL says the same, in its own terms.
	resp, err = client.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ posts(first: 1) { totalCount } }"}`))
	require.NoError(t, err)
	var gql struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&gql))
	resp.Body.Close()
	require.NotEmpty(t, gql.Errors)
	require.Equal(t, "SERVICE_UNAVAILABLE", gql.Errors[0].Extensions["code"], "GraphQL during the outage")
	require.Equal(t, "The service is temporarily unavailable; retry shortly.", gql.Errors[0].Message)
	// And so does the authentication path of either: a good session is not told it is invalid.
	for _, path := range []string{"/graphql", "/api/posts"} {
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(`{"query":"{ posts(first: 1) { totalCount } }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+signedIn.AccessToken)
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s with a valid token: %s", path, body)
		require.Contains(t, string(body), "temporarily unavailable")
		require.Equal(t, "1", resp.Header.Get("Retry-After"))
	}
	// A WebSocket's connection_init with that token is closed with 1013 (Try Again Later), not as a bad session.
	wsCtx, wsCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wsCancel()
	ws, _, err := websocket.Dial(wsCtx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	require.NoError(t, err)
	require.NoError(t, wsjson.Write(wsCtx, ws, map[string]any{
		"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + signedIn.AccessToken},
	}))
	for {
		var msg map[string]any
		if err := wsjson.Read(wsCtx, ws, &msg); err != nil {
			require.Equal(t, websocket.StatusTryAgainLater, websocket.CloseStatus(err), "%v", err)
			break
		}
		require.NotEqual(t, "connection_ack", msg["type"], "no session is opened during the outage")
	}
	time.Sleep(10 * time.Second)

	startPG()
	back := time.Now()
	require.Eventually(t, func() bool { s, _ := get("/api/posts"); return s == http.StatusOK }, 5*time.Second, 50*time.Millisecond,
		"recovered within 5 s of the database's return\n%s", logs.String())
	t.Logf("recovered %s after the database returned", time.Since(back).Round(time.Millisecond))
	s, _ := get("/readyz")
	require.Equal(t, http.StatusOK, s)
	stop.Store(true)
	wg.Wait()
	require.Zero(t, fiveHundreds.Load(), "only 503s during the outage, never another 5xx")
	require.Less(t, time.Duration(slowest.Load()), 6*time.Second, "no request hung")

	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var users int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&users))
	require.Equal(t, 5, users, "no committed write was lost")
	var welcomes int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'email'").Scan(&welcomes))
	require.Equal(t, 5, welcomes, "nor any committed job")
}
