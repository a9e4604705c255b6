package graph_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/graph"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/servicetest"
)

// counter is a pgx tracer that counts the statements sent, to prove the dataloaders batch.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// instance is one running Junction (REST and GraphQL) on a shared database, like one `junction serve`.
type instance struct {
	url    string
	pool   *pgxpool.Pool
	count  *counter
	svc    *wire.Services
	sealer *auth.Sealer
	gql    *graph.Handler
}

// instanceOptions change an instance from the defaults the other tests use.
type instanceOptions struct {
	tokenTTL      time.Duration // default an hour
	maxConcurrent int           // MAX_CONCURRENT_REQUESTS; default none
	webSocket     graph.WebSocketOptions
	// trustLoopback believes X-Forwarded-For from 127.0.0.1, so that a test can be many clients.
	trustLoopback bool
	// limits replaces the rate limits, which are otherwise out of the way.
	limits *config.RateLimitConfig
	// graph changes the GraphQL options, which are otherwise production's.
	graph []func(*graph.Options)
	// tracerProvider traces the requests and their operations (nil: tracing is off).
	tracerProvider trace.TracerProvider
}

// noLimits keeps rate limits out of the way of tests that are not about them.
var noLimits = config.RateLimitConfig{Window: time.Minute, Default: 1e6, ListUsers: 1e6, SignUp: 1e6, Login: 1e6, PasswordReset: 1e6}

// newInstance serves on dbURL with the production limits, changed by each of with.
func newInstance(t *testing.T, dbURL string, with ...func(*graph.Options)) *instance {
	t.Helper()
	return newInstanceWith(t, dbURL, instanceOptions{graph: with})
}

func newInstanceWith(t *testing.T, dbURL string, o instanceOptions) *instance {
	t.Helper()
	rl := noLimits
	if o.limits != nil {
		rl = *o.limits
	}
	if o.trustLoopback {
		rl.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	require.NoError(t, err)
	c := &counter{}
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	logger, _ := logtest.New()
	tokens, err := auth.NewTokens([]byte(servicetest.Secret), "junction", "junction-api", cmp.Or(o.tokenTTL, time.Hour))
	require.NoError(t, err)
	sealer, err := auth.NewSealer([]byte(servicetest.Secret))
	require.NoError(t, err)
	svc := servicetest.New(t, pool, servicetest.Options{Tokens: tokens, Sealer: sealer, Logger: logger})
	gql := graph.Services{Accounts: svc.Accounts, Users: svc.Users, Posts: svc.Posts, Comments: svc.Comments, Idempotency: svc.Idempotency}
	broker := graph.NewBroker(gql, logger)
	svc.Listener.Handle(broker.Handle)
	limits := ratelimit.New(rl, ratelimit.NewMemory(1<<16, time.Now))
	opts := graph.Options{
		Introspection: true, MaxDepth: 8, MaxComplexity: 50_000, MaxResponseBytes: 4 << 20, BodyLimit: 16 << 10, Logger: logger,
		Limits: limits, WebSocket: o.webSocket,
		// Generous, so that a slow machine (CI, the race detector) never splits a batch and flakes the count.
		LoaderWait:     50 * time.Millisecond,
		TracerProvider: o.tracerProvider,
	}
	for _, w := range o.graph {
		w(&opts)
	}
	gqlHandler := graph.NewHandler(gql, broker, opts)
	h, err := httpapi.NewHandler(httpapi.Services{Accounts: svc.Accounts, Users: svc.Users, Posts: svc.Posts, Comments: svc.Comments, Billing: svc.Billing, Endpoints: svc.Endpoints, Ops: svc.Ops, Idempotency: svc.Idempotency}, httpapi.Options{
		Logger: logger, GraphQL: gqlHandler, Limits: limits, TrustedProxies: rl.TrustedProxies, MaxConcurrent: o.maxConcurrent,
		TracerProvider: o.tracerProvider,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &instance{url: srv.URL, pool: pool, count: c, svc: svc, sealer: sealer, gql: gqlHandler}
}

func setup(t *testing.T, with ...func(*graph.Options)) *instance {
	return newInstance(t, dbtest.NewURL(t), with...)
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
	status int
}

func (e gqlResponse) code() string {
	if len(e.Errors) == 0 {
		return ""
	}
	c, _ := e.Errors[0].Extensions["code"].(string)
	return c
}

// do runs one operation over HTTP.
func (in *instance) do(t *testing.T, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, in.url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out gqlResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	out.status = resp.StatusCode
	return out
}

// ok runs an operation that must succeed and returns its data.
func (in *instance) ok(t *testing.T, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := in.do(t, token, query, vars)
	require.Empty(t, r.Errors, "%+v", r.Errors)
	return r.Data
}

// signUp creates a user through GraphQL and signs in.
func (in *instance) signUp(t *testing.T, name, email string) (id, token string) {
	t.Helper()
	d := in.ok(t, "", `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": name, "email": email, "password": "long enough"}})
	id = get(d, "createUser", "id").(string)
	d = in.ok(t, "", `mutation { login(email: "`+email+`", password: "long enough") { accessToken tokenType user { id } } }`, nil)
	require.Equal(t, id, get(d, "login", "user", "id"))
	return id, get(d, "login", "accessToken").(string)
}

// get walks a decoded JSON value by keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		v = v.(map[string]any)[k]
	}
	return v
}
