package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apitest"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/servicetest"
	"github.com/junction-dev/junction/impl/webhook"
)

type testBundle struct {
	t         *testing.T
	url       string
	pool      *pgxpool.Pool
	client    *api.ClientWithResponses
	http      *http.Client
	transport *apitest.Transport
	logs      *logtest.Buffer
}

type setupOptions struct {
	development bool
	pool        *pgxpool.Pool // instead of a fresh database
	rateLimit   *config.RateLimitConfig
	slowHash    bool // production-like argon2 cost, for timing tests
	cors        []string
	// tracerProvider traces the requests (nil: tracing is off).
	tracerProvider trace.TracerProvider
}

// testSecret signs the tests' tokens; tokens.go makes forged ones with it.
var testSecret = []byte("a test secret that is 32 bytes long")

// webhookSecret signs the tests' Stripe deliveries.
const webhookSecret = "whsec_test_secret"

// noLimits keeps rate limits out of the way of tests that are not about them.
var noLimits = config.RateLimitConfig{Window: time.Minute, Default: 1_000_000, ListUsers: 1_000_000, SignUp: 1_000_000, Login: 1_000_000, PasswordReset: 1_000_000}

// setup starts the whole REST surface over real HTTP on a fresh database. Every response is validated against
// openapi.yaml, and when the test ends no response body may hold a password or a hash.
func setup(t *testing.T, opts ...setupOptions) *testBundle {
	t.Helper()
	var o setupOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	pool := o.pool
	if pool == nil {
		pool = dbtest.New(t)
	}
	logger, logs := logtest.New()
	tokens, err := auth.NewTokens(testSecret, "junction", "junction-api", time.Hour)
	require.NoError(t, err)
	sealer, err := auth.NewSealer(testSecret)
	require.NoError(t, err)
	// Jobs are only inserted here; another test works them.
	svc := servicetest.New(t, pool, servicetest.Options{
		// Cheap argon2 parameters unless the test is about the cost.
		Hash:   hashParams(o.slowHash),
		Tokens: tokens, Sealer: sealer,
		// As in production: authentication is cached, and the listener keeps the cache coherent.
		AuthCacheTTL: time.Minute,
		Logger:       logger,
	})
	limits := noLimits
	if o.rateLimit != nil {
		limits = *o.rateLimit
	}
	handler, err := httpapi.NewHandler(httpapi.Services{Accounts: svc.Accounts, Users: svc.Users, Posts: svc.Posts, Comments: svc.Comments, Billing: svc.Billing, Endpoints: svc.Endpoints, Ops: svc.Ops, Idempotency: svc.Idempotency}, httpapi.Options{
		Development: o.development, Logger: logger, CORSOrigins: o.cors,
		Limits: ratelimit.New(limits, ratelimit.NewMemory(1<<16, time.Now)), TrustedProxies: limits.TrustedProxies,
		StripeVerifier: webhook.NewVerifier([]string{"whsec_old", webhookSecret}, 5*time.Minute, time.Now),
		TracerProvider: o.tracerProvider,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	transport, err := apitest.NewTransport(nil)
	require.NoError(t, err)
	httpClient := &http.Client{Transport: transport}
	client, err := api.NewClientWithResponses(srv.URL, api.WithHTTPClient(httpClient))
	require.NoError(t, err)

	b := &testBundle{t: t, url: srv.URL, pool: pool, client: client, http: httpClient, transport: transport, logs: logs}
	t.Cleanup(func() {
		for _, secret := range []string{"$argon2id$", testPassword, "password_hash", string(testSecret)} {
			require.Empty(t, transport.BodiesContaining(secret), "a response body holds %q", secret)
			require.NotContains(t, logs.String(), secret, "a log line holds %q", secret)
		}
		require.NotContains(t, logs.String(), "eyJhbGciOi", "a log line holds a token")
	})
	return b
}

const testPassword = "correct horse battery staple"

func hashParams(slow bool) password.Params {
	if slow {
		return password.Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}
	}
	return password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
}

// signUp creates a user through the API and signs them in, returning the user and a bearer token.
func (b *testBundle) signUp(name, email string) (api.User, string) {
	b.t.Helper()
	u := b.createUser(name, email)
	return u, b.login(email, testPassword)
}

func (b *testBundle) login(email, password string) string {
	b.t.Helper()
	resp, err := b.client.CreateTokenWithResponse(context.Background(), api.TokenRequest{Email: email, Password: &password})
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusOK, resp.StatusCode(), string(resp.Body))
	return resp.JSON200.AccessToken
}

// bearer makes a typed client call with token.
func bearer(token string) api.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// createUser creates a user through the API and returns it.
func (b *testBundle) createUser(name, email string) api.User {
	b.t.Helper()
	resp, err := b.client.CreateUserWithResponse(context.Background(), nil, api.CreateUserJSONRequestBody{
		Name: name, Email: api.Email(email), Password: ptr(testPassword),
	})
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusCreated, resp.StatusCode(), string(resp.Body))
	return resp.JSON201.Data
}

// response is a raw exchange, for requests the typed client cannot express (bad JSON, wrong types).
type response struct {
	status int
	header http.Header
	body   []byte
}

// envelope decodes the error envelope, failing the test when the body is not one.
func (r response) envelope(t *testing.T) api.Error {
	t.Helper()
	var e api.Error
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&e), "not an error envelope: %s", r.body)
	require.Equal(t, r.status, e.StatusCode)
	require.Equal(t, http.StatusText(r.status), e.Error)
	require.NotEmpty(t, e.RequestId)
	require.Equal(t, r.header.Get("X-Request-Id"), e.RequestId)
	return e
}

func (b *testBundle) do(method, path, contentType, body string, headers ...string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	require.NoError(b.t, err)
	if body == "" {
		req.Body = http.NoBody
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (b *testBundle) doJSON(method, path, body string, headers ...string) response {
	b.t.Helper()
	return b.do(method, path, "application/json", body, headers...)
}

// withToken is the header pair for do and doJSON.
func withToken(token string) []string { return []string{"Authorization", "Bearer " + token} }

func ptr[T any](v T) *T { return &v }
