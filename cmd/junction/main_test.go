package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t) // already migrated from the template: migrate must find nothing to do
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "APP_ENV": "development"})
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

// TestServeEndToEnd starts the real program on port 0: it migrates a blank database, serves, answers, and shuts
// down cleanly when its context ends (as on SIGTERM).
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	// Start from an empty schema so serve's own migration is what creates the tables.
	_, err = conn.Exec(context.Background(), "DROP TABLE comments, posts, users, goose_db_version")
	require.NoError(t, err)
	conn.Close(context.Background())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, env(map[string]string{
			"DATABASE_URL": dbURL, "PORT": "0", "ARGON2_MEMORY_KIB": "64", "ARGON2_ITERATIONS": "1",
			"JWT_SECRET": "an end-to-end test secret, 32 bytes+",
		}), logW)
		logW.Close()
	}()

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logR)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + strings.Replace(a, "[::]", "127.0.0.1", 1)
	case err := <-done:
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	resp, err := http.Post(base+"/api/users", "application/json",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"long enough"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	for _, path := range []string{"/healthz", "/readyz", "/docs", "/api/posts"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown returns nil")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
