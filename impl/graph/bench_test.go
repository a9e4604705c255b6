package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/graph"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/servicetest"
)

// benchServer serves GraphQL with the production loader wait over 20 users with 2 posts of 1 comment each, or
// with the seed statements given. It builds the services as every test does (servicetest).
func benchServer(b *testing.B, seed ...string) (url, token, userID string) {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(dbtest.NewURL(b))
	require.NoError(b, err)
	cfg.AfterConnect = postgres.AfterConnect // as production's pool
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	logger, _ := logtest.New()
	tokens, err := auth.NewTokens([]byte("a bench secret that is 32 bytes long"), "junction", "junction-api", time.Hour)
	require.NoError(b, err)
	all := servicetest.New(b, pool, servicetest.Options{Tokens: tokens, Logger: logger})
	svc := graph.Services{Accounts: all.Accounts, Users: all.Users, Posts: all.Posts, Comments: all.Comments, Idempotency: all.Idempotency}
	broker := graph.NewBroker(svc, logger)
	limits := ratelimit.New(config.RateLimitConfig{Window: time.Minute, Default: 1e9, ListUsers: 1e9, SignUp: 1e9, Login: 1e9, PasswordReset: 1e9},
		ratelimit.NewMemory(1<<16, time.Now))
	gqlHandler := graph.NewHandler(svc, broker, graph.Options{
		Introspection: true, MaxDepth: 10, MaxComplexity: 50_000, BodyLimit: 64 << 10, Logger: logger,
		LoaderWait: 2 * time.Millisecond, Limits: limits,
	})
	h, err := httpapi.NewHandler(httpapi.Services{Accounts: all.Accounts, Users: all.Users, Posts: all.Posts, Comments: all.Comments, Billing: all.Billing, Endpoints: all.Endpoints, Ops: all.Ops, Idempotency: all.Idempotency}, httpapi.Options{Logger: logger, GraphQL: gqlHandler, Limits: limits})
	require.NoError(b, err)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)

	ctx := context.Background()
	if len(seed) == 0 {
		seed = []string{
			`INSERT INTO users (name, email, password_hash) SELECT 'U' || g, 'u' || g || '@example.com', 'x' FROM generate_series(1, 20) g`,
			`INSERT INTO posts (author_id, title, content, published, published_at) SELECT u.id, 'P' || g, 'Content', true, now() FROM users u, generate_series(1, 2) g`,
			`INSERT INTO comments (post_id, author_id, content) SELECT p.id, p.author_id, 'c' FROM posts p`,
		}
	}
	for _, q := range seed {
		_, err := pool.Exec(ctx, q)
		require.NoError(b, err)
	}
	require.NoError(b, pool.QueryRow(ctx, `SELECT id::text FROM users LIMIT 1`).Scan(&userID))
	tok, err := tokens.Issue(userID)
	require.NoError(b, err)
	return srv.URL, tok, userID
}

func benchQuery(b *testing.B, query string, vars map[string]any, seed ...string) {
	url, token, userID := benchServer(b, seed...)
	if vars != nil {
		vars["id"] = userID
	}
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(b, err)
	do := func() []byte {
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return out
	}
	first := do()
	require.NotContains(b, string(first), `"errors"`, string(first))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		do()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(first)), "bytes/answer")
}

// cpuTime is the user and system CPU this process has used, client and server together: steadier than the
// wall time of one request, which the dataloaders' waits dominate.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNestedQuery is the README's nested query: 20 users, their posts, the posts' comments and authors.
func BenchmarkNestedQuery(b *testing.B) {
	benchQuery(b, `query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`, nil)
}

// BenchmarkNestedQueryBenchShape is the same query over the shape make bench's seed gives it: 20 users with 5
// posts each, 5 comments a post, by authors spread over 50 users (about 100 posts, 500 comments, 20 KB).
func BenchmarkNestedQueryBenchShape(b *testing.B) {
	benchQuery(b, `query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`, nil,
		`INSERT INTO users (name, email, password_hash, created_at) SELECT 'U' || g, 'u' || g || '@example.com', 'x', now() - g * interval '1 minute' FROM generate_series(1, 50) g`,
		`INSERT INTO posts (author_id, title, content, published, published_at) SELECT u.id, 'P' || g, 'Content', true, now() FROM users u, generate_series(1, 5) g`,
		`INSERT INTO comments (post_id, author_id, content) SELECT p.id, (SELECT id FROM users ORDER BY md5(p.id::text || g::text || users.id::text) LIMIT 1), 'A thoughtful comment.' FROM posts p, generate_series(1, 5) g`,
	)
}

// BenchmarkUserByID is the by-id read: every field pays the field middleware, no dataloader waits.
func BenchmarkUserByID(b *testing.B) {
	benchQuery(b, `query($id: ID!) { user(id: $id) { id name email createdAt updatedAt } }`, map[string]any{})
}
