package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t) // already migrated from the template: migrate must find nothing to do
	// Production, without JWT_SECRET: a deploy's migration step does not need the application's secrets.
	getenv := env(map[string]string{"DATABASE_URL": dbURL})
	for range 2 {
		var out strings.Builder
		require.NoError(t, run(context.Background(), []string{"migrate"}, getenv, &out))
		require.NotContains(t, out.String(), "migration applied")
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var version int64
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT max(version_id) FROM goose_db_version").Scan(&version))
	require.Positive(t, version)
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, map[string]string{}, "usage"},
		{"unknown command", []string{"launch"}, map[string]string{"DATABASE_URL": "postgres://x", "APP_ENV": "development"}, `unknown command "launch"`},
		{"no database", []string{"serve"}, map[string]string{}, "DATABASE_URL is required"},
		{"no JWT secret outside development", []string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x"}, "JWT_SECRET is required"},
		{"bad setting", []string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "DB_MAX_CONNS": "many"}, "DB_MAX_CONNS"},
		{"bad session URL", []string{"migrate"}, map[string]string{
			"DATABASE_URL": "postgres://x", "DATABASE_SESSION_URL": "postgres://junction:s3cret@[::1", "APP_ENV": "development",
		}, "DATABASE_SESSION_URL is not a valid connection string"},
		{"database never answers", []string{"migrate"}, map[string]string{
			"DATABASE_URL": "postgres://junction:s3cret@127.0.0.1:1/junction", "DB_WAIT_TIMEOUT": "300ms", "APP_ENV": "development",
		}, "not reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := run(context.Background(), tt.args, env(tt.env), &out)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error()+out.String(), "s3cret", "the database password is never printed")
		})
	}
}

// server is the real program started by run on port 0.
type server struct {
	base string
	logs *logtest.Buffer
	stop func() error
}

// startServe runs `junction serve` against dbURL until the test ends.
func startServe(t *testing.T, vars map[string]string) *server {
	t.Helper()
	return startServeWith(t, vars, nil)
}

// startServeWith is startServe with every span also handed to processors (which turn tracing on).
func startServeWith(t *testing.T, vars map[string]string, processors []sdktrace.SpanProcessor) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logtest.Buffer{}
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	base := map[string]string{
		"PORT": "0", "ARGON2_MEMORY_KIB": "64", "ARGON2_ITERATIONS": "1",
		"JWT_SECRET": "an end-to-end test secret, 32 bytes+", "EMAIL_RETRY_BASE": "50ms",
	}
	if vars["SMTP_URL"] == "" {
		base["MAIL_TRANSPORT"] = "log" // production refuses to start without a mail transport
	}
	for k, v := range vars {
		base[k] = v
	}
	go func() {
		done <- runWith(ctx, []string{"serve"}, env(base), logW, processors)
		logW.Close()
	}()
	addr := make(chan string, 1)
	logsRead := make(chan struct{})
	go func() {
		defer close(logsRead)
		sc := bufio.NewScanner(logR)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	s := &server{logs: logs}
	stopped := false
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			<-logsRead // every line the process wrote, its last one included, is in s.logs
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop")
		}
	}
	t.Cleanup(func() { _ = s.stop() })
	select {
	case a := <-addr:
		s.base = "http://" + strings.Replace(a, "[::]", "127.0.0.1", 1)
	case err := <-done:
		t.Fatalf("serve exited early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return s
}

func (s *server) post(t *testing.T, path, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestServeEndToEnd starts the real program on port 0: it migrates a blank database, serves, answers, and shuts
// down cleanly when its context ends (as on SIGTERM).
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	// Start from an empty schema so serve's own migration is what creates the tables.
	_, err = conn.Exec(context.Background(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	conn.Close(context.Background())

	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "DEBUG_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	for _, path := range []string{"/healthz", "/readyz", "/docs", "/api/posts"} {
		resp, err := http.Get(s.base + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	// Made-up methods and paths make no new series.
	for i := range 50 {
		req, err := http.NewRequest(fmt.Sprintf("M%d", i), fmt.Sprintf("%s/nowhere/%d", s.base, i), nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	resp, err := http.Get(s.base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "metrics are not on the API's port")
	metrics := getBody(t, "http://"+logged(t, s, "metrics server")+"/metrics")
	require.NotContains(t, metrics, `method="M1"`)
	require.NotContains(t, metrics, `/nowhere/1`)
	require.Contains(t, metrics, `method="other"`)
	require.NotContains(t, metrics, `junction_webhook_deliveries{status="succeeded"}`)
	for _, series := range []string{
		`junction_http_requests_total{method="POST",route="/api/users",status="201"} 1`,
		`junction_http_request_duration_seconds_bucket{method="GET",route="/api/posts"`,
		`junction_db_pool_total_connections`, `junction_db_pool_waited_acquires_total`,
		`junction_river_jobs{kind="email",state=`,
		// Both, even at zero; never the succeeded ones, which would mean reading the whole delivery log.
		`junction_webhook_deliveries{status="pending"} 0`, `junction_webhook_deliveries{status="failed"} 0`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	resp, err = http.Get(s.base + "/debug/pprof/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "profiles are not on the API's port")
	require.Contains(t, getBody(t, "http://"+logged(t, s, "debug server")+"/debug/pprof/"), "goroutine")
	require.NoError(t, s.stop(), "graceful shutdown returns nil")
	require.Contains(t, s.logs.String(), `"msg":"stopped"`)
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// logged is the address that the line msg of s's log names.
func logged(t *testing.T, s *server, msg string) string {
	t.Helper()
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg {
			return l.Addr
		}
	}
	t.Fatalf("no %q in the log", msg)
	return ""
}

// TestWhatRESTAcceptsGraphQLAccepts: with the production defaults, a post as large as openapi.yaml allows
// (50,000 characters of two UTF-8 bytes each, escaped in JSON) is accepted through both APIs.
func TestWhatRESTAcceptsGraphQLAccepts(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t)})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	_, tok := s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`)
	auth := "Bearer " + tok["accessToken"].(string)
	content := strings.Repeat(`\u00e9`, 50_000) // 300,000 bytes on the wire
	status, out := s.post(t, "/api/posts", `{"title":"Long","content":"`+content+`","published":true}`, "Authorization", auth)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = s.post(t, "/graphql", `{"query":"mutation($c: String!) { createPost(input: {title: \"Long\", content: $c}) { id } }","variables":{"c":"`+content+`"}}`,
		"Authorization", auth)
	require.Equal(t, http.StatusOK, status)
	require.Nil(t, out["errors"], "%v", out["errors"])
}
