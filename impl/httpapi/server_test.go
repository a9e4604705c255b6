package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	junction "github.com/junction-dev/junction"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/servicetest"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	health, err := b.client.GetHealthWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, health.StatusCode())
	ready, err := b.client.GetReadinessWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ready.StatusCode())

	b.pool.Close() // the database is gone for this server
	ready, err = b.client.GetReadinessWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, ready.StatusCode())
	require.Equal(t, "The database is not reachable.", *ready.JSON503.Message)
	health, err = b.client.GetHealthWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, health.StatusCode(), "liveness does not depend on the database")
}

func TestInternalErrorsHideDetailsOutsideDevelopment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		development bool
		wantMessage string
	}{
		{"production", false, "An unexpected error occurred."},
		{"development", true, "list posts: closed pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := dbtest.New(t)
			b := setup(t, setupOptions{development: tt.development, pool: pool})
			pool.Close() // every query now fails with an internal error
			r := b.do(http.MethodGet, "/api/posts", "", "")
			require.Equal(t, http.StatusInternalServerError, r.status)
			e := r.envelope(t)
			require.Equal(t, tt.wantMessage, *e.Message)
			require.Contains(t, b.logs.String(), `"msg":"internal error"`)
			require.Contains(t, b.logs.String(), "closed pool", "the details are logged either way")
		})
	}
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name string
		sent string
		keep bool
	}{
		{"honoured", "abc-123_XYZ", true},
		{"generated when absent", "", false},
		{"replaced when it holds spaces", "a b", false},
		{"replaced when too long", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.sent != "" {
				headers = []string{"X-Request-Id", tt.sent}
			}
			r := b.do(http.MethodGet, "/api/users/not-a-uuid", "", "", headers...)
			got := r.header.Get("X-Request-Id")
			require.NotEmpty(t, got)
			require.Equal(t, tt.keep, got == tt.sent)
			require.Equal(t, got, r.envelope(t).RequestId)
		})
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, token := b.signUp("Ada", "ada@example.com")
	b.do(http.MethodGet, "/api/users/"+u.Id.String(), "", "", append(withToken(token), "X-Request-Id", "trace-me")...)

	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.logs.String()), "\n") {
		if strings.Contains(l, `"request_id":"trace-me"`) {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.NotNil(t, line, "no access log line for the request:\n%s", b.logs.String())
	require.Equal(t, "request", line["msg"])
	require.Equal(t, "GET", line["method"])
	require.Equal(t, "/api/users/{id}", line["route"], "the route pattern, not the raw path")
	require.EqualValues(t, 200, line["status"])
	require.Contains(t, line, "duration_ms")
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/nothing", http.StatusNotFound},
		{http.MethodGet, "/nothing", http.StatusNotFound},
		{http.MethodDelete, "/api/users", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/users/" + "0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := b.do(tt.method, tt.path, "", "")
			require.Equal(t, tt.status, r.status, string(r.body))
			r.envelope(t)
		})
	}
}

func TestDocsAndSpec(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(b.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		return resp, string(body)
	}

	resp, page := get("/docs")
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, page, `src="/docs/swagger-ui-bundle.js"`)
	require.NotContains(t, page, "://", "no asset comes from a CDN")
	_, init := get("/docs/initializer.js")
	require.Contains(t, init, `url: "/openapi.yaml"`)
	for _, asset := range []string{"/docs/swagger-ui-bundle.js", "/docs/swagger-ui-standalone-preset.js", "/docs/swagger-ui.css"} {
		_, body := get(asset)
		require.Greater(t, len(body), 1000, asset)
	}

	_, yaml := get("/openapi.yaml")
	require.Equal(t, string(junction.OpenAPIYAML), yaml)
	resp, js := get("/openapi.json")
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	require.Equal(t, "3.0.3", doc.OpenAPI)
	require.Contains(t, doc.Paths, "/api/users/{id}")
}

func TestSecurityHeadersAndCORS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/api/posts", "/nothing", "/docs"} {
		r := b.do(http.MethodGet, path, "", "", "Origin", "https://evil.example")
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", r.header.Get("X-Frame-Options"), path)
		require.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"), path)
		require.Empty(t, r.header.Get("Access-Control-Allow-Origin"), "no origin is allowed by default")
		if path != "/docs" {
			require.Equal(t, "default-src 'none'; frame-ancestors 'none'", r.header.Get("Content-Security-Policy"), path)
		}
	}

	allowed := setup(t, setupOptions{cors: []string{"https://app.example"}})
	r := allowed.do(http.MethodGet, "/api/posts", "", "", "Origin", "https://app.example")
	require.Equal(t, "https://app.example", r.header.Get("Access-Control-Allow-Origin"))
	r = allowed.do(http.MethodGet, "/api/posts", "", "", "Origin", "https://evil.example")
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
	req, err := http.NewRequest(http.MethodOptions, allowed.url+"/api/posts", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"), "preflight")
}

// TestNewHandlerNeedsEveryService: a service left out of the wiring fails at start-up, naming it, not as a 500 on
// the first request that needs it.
func TestNewHandlerNeedsEveryService(t *testing.T) {
	t.Parallel()
	_, err := httpapi.NewHandler(httpapi.Services{}, httpapi.Options{})
	require.ErrorContains(t, err, "Accounts, Billing, Comments, Endpoints, Idempotency, Ops, Posts, Users")
}

// TestNewHandlerWithoutALogger: a handler built without a logger answers (and logs nowhere) rather than panicking
// on its first request.
func TestNewHandlerWithoutALogger(t *testing.T) {
	t.Parallel()
	svc := servicetest.New(t, dbtest.New(t), servicetest.Options{})
	h, err := httpapi.NewHandler(httpapi.Services{Accounts: svc.Accounts, Users: svc.Users, Posts: svc.Posts, Comments: svc.Comments,
		Billing: svc.Billing, Endpoints: svc.Endpoints, Ops: svc.Ops, Idempotency: svc.Idempotency}, httpapi.Options{
		Limits: ratelimit.New(noLimits, ratelimit.NewMemory(1<<10, time.Now)),
	})
	require.NoError(t, err)
	for _, path := range []string{"/openapi.yaml", "/nowhere", "/api/posts"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Less(t, rec.Code, 500, path)
	}
}
