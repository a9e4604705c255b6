package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apitest"
	"github.com/junction-dev/junction/impl/service"
)

const problemJSON = "application/problem+json"

// problemTitles are x-problem-types' titles by type URI, read from openapi.yaml as the server reads them.
func problemTitles(t *testing.T) map[string]string {
	t.Helper()
	doc, err := apitest.Contract()
	require.NoError(t, err)
	titles := map[string]string{}
	for _, v := range doc.Extensions["x-problem-types"].(map[string]any) {
		m := v.(map[string]any)
		titles[m["type"].(string)] = m["title"].(string)
	}
	return titles
}

// problem decodes RFC 9457 problem details, failing the test when the body is not exactly one of ours: the
// members of the Problem schema and no others, the status of the response, the request id of its header.
func (r response) problem(t *testing.T) api.Problem {
	t.Helper()
	require.Equal(t, problemJSON, r.header.Get("Content-Type"), "%s", r.body)
	var members map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &members), "not JSON: %s", r.body)
	for k := range members {
		require.Contains(t, []string{"type", "title", "status", "detail", "instance", "errors", "requestId"}, k, "a member the schema does not name")
	}
	var p api.Problem
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.Equal(t, r.status, p.Status)
	require.NotEmpty(t, p.RequestId)
	require.Equal(t, r.header.Get("X-Request-Id"), p.RequestId)
	return p
}

// requireVaryAccept: an error's representation depends on Accept, which a cache must know.
func requireVaryAccept(t *testing.T, r response) {
	t.Helper()
	var fields []string
	for _, v := range r.header.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			fields = append(fields, strings.TrimSpace(f))
		}
	}
	require.Contains(t, fields, "Accept", "Vary: %q", r.header.Values("Vary"))
}

// TestErrorsAsProblems: a representative error of every kind, asked for with Accept: application/problem+json,
// is the problem of its documented type (title, status, detail, instance, errors, requestId), and without that
// Accept the envelope, as before. Every answer is validated against openapi.yaml by the test client too.
func TestErrorsAsProblems(t *testing.T) {
	t.Parallel()
	titles := problemTitles(t)
	b := setup(t)
	ada, adaToken := b.signUp("Ada", "ada@example.com")
	_, graceToken := b.signUp("Grace", "grace@example.com")
	ctx := context.Background()

	// A running request with Ada's key: the lock it would hold, held here.
	const runningKey = "still-running"
	lock, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	lockID := service.IdempotentRequest{Scope: "user:" + ada.Id.String(), Method: http.MethodPost, Route: "/api/posts", Key: runningKey}.LockID()
	_, err = lock.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = lock.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockID)
		lock.Release()
	})

	// A key that made one post, for the 422 of another.
	first := b.doJSON(http.MethodPost, "/api/posts", `{"title":"Once","content":"Once.","published":true}`,
		append(withToken(adaToken), "Idempotency-Key", "used-once")...)
	require.Equal(t, http.StatusCreated, first.status, string(first.body))

	// A client over its sign-in quota.
	limits := noLimits
	limits.Login = 1
	limited := setup(t, setupOptions{rateLimit: &limits})
	signIn := `{"email":"nobody@example.com","password":"wrong password"}`
	require.Equal(t, http.StatusUnauthorized, limited.doJSON(http.MethodPost, "/api/auth/token", signIn).status)

	// A development server whose database is gone: internal errors show their text, readiness fails.
	broken := setup(t, setupOptions{development: true})
	broken.pool.Close()

	now := time.Now()
	event := stripeEvent("evt_p", "payment_intent.succeeded", now.Unix(), `{"id":"pi_1"}`)
	tests := []struct {
		name                      string
		b                         *testBundle
		method, path, contentType string
		body                      string
		headers                   []string
		status                    int
		problem                   string // the type's name in x-problem-types
		detail                    string
		errors                    map[string][]string
		check                     func(t *testing.T, r response)
	}{
		{
			name: "400 field errors", b: b, method: http.MethodPost, path: "/api/users", contentType: "application/json",
			body:   `{"name":"Hopper","email":"not-an-email","password":"long enough"}`,
			status: http.StatusBadRequest, problem: "invalid-request", detail: "The request is invalid.",
			errors: map[string][]string{"email": {"must be a valid email"}},
		},
		{
			name: "400 a webhook refused", b: b, method: http.MethodPost, path: "/api/webhooks/stripe", contentType: "application/json",
			body: event, headers: []string{"Stripe-Signature", stripeSignature("whsec_wrong", now, event)},
			status: http.StatusBadRequest, problem: "webhook-rejected", detail: "No signature matches.",
		},
		{
			name: "401", b: b, method: http.MethodGet, path: "/api/users",
			status: http.StatusUnauthorized, problem: "unauthenticated", detail: "Sign in: send Authorization: Bearer <token>.",
			check: func(t *testing.T, r response) {
				require.Equal(t, `Bearer realm="junction"`, r.header.Get("WWW-Authenticate"))
			},
		},
		{
			name: "403", b: b, method: http.MethodGet, path: "/api/admin/webhook-events", headers: withToken(graceToken),
			status: http.StatusForbidden, problem: "forbidden", detail: "This needs an admin account.",
		},
		{
			name: "404", b: b, method: http.MethodGet, path: "/api/users/" + uuid.NewString(), headers: withToken(adaToken),
			status: http.StatusNotFound, problem: "not-found", detail: "User not found",
		},
		{
			name: "404 no such route", b: b, method: http.MethodGet, path: "/api/nothing",
			status: http.StatusNotFound, problem: "not-found", detail: "No such resource.",
		},
		{
			name: "405", b: b, method: http.MethodDelete, path: "/api/users",
			status: http.StatusMethodNotAllowed, problem: "method-not-allowed", detail: "This method is not allowed on this resource.",
			check: func(t *testing.T, r response) { require.Equal(t, "GET, HEAD, POST", r.header.Get("Allow")) },
		},
		{
			name: "409 conflict", b: b, method: http.MethodPost, path: "/api/users", contentType: "application/json",
			body:   `{"name":"Ada again","email":"ADA@example.com","password":"long enough"}`,
			status: http.StatusConflict, problem: "conflict", detail: "A user with this email already exists.",
			errors: map[string][]string{"email": {"is already taken"}},
			check:  func(t *testing.T, r response) { require.Empty(t, r.header.Get("Retry-After")) },
		},
		{
			name: "409 Idempotency-Key still running", b: b, method: http.MethodPost, path: "/api/posts", contentType: "application/json",
			body:    `{"title":"Running","content":"Still.","published":false}`,
			headers: append(withToken(adaToken), "Idempotency-Key", runningKey),
			status:  http.StatusConflict, problem: "idempotency-key-in-flight",
			detail: "A request with this Idempotency-Key is still running; retry shortly.",
			check:  func(t *testing.T, r response) { require.Equal(t, "1", r.header.Get("Retry-After")) },
		},
		{
			name: "413", b: b, method: http.MethodPost, path: "/api/users", contentType: "application/json",
			body:   `{"name":"` + strings.Repeat("x", 70_000) + `"}`,
			status: http.StatusRequestEntityTooLarge, problem: "payload-too-large", detail: "The request body must be at most 65536 bytes.",
		},
		{
			name: "415", b: b, method: http.MethodPost, path: "/api/users", contentType: "text/plain", body: "Ada",
			status: http.StatusUnsupportedMediaType, problem: "unsupported-media-type", detail: "The request body must be application/json.",
		},
		{
			name: "422 Idempotency-Key reused", b: b, method: http.MethodPost, path: "/api/posts", contentType: "application/json",
			body:    `{"title":"Another","content":"Not the first.","published":true}`,
			headers: append(withToken(adaToken), "Idempotency-Key", "used-once"),
			status:  http.StatusUnprocessableEntity, problem: "idempotency-key-reused", detail: "This Idempotency-Key was used for another request.",
		},
		{
			name: "429", b: limited, method: http.MethodPost, path: "/api/auth/token", contentType: "application/json", body: signIn,
			status: http.StatusTooManyRequests, problem: "rate-limited",
			check: func(t *testing.T, r response) {
				require.NotEmpty(t, r.header.Get("Retry-After"))
				require.Contains(t, r.header.Get("RateLimit"), `"login";r=0;`)
			},
		},
		{
			name: "500 in development", b: broken, method: http.MethodGet, path: "/api/posts",
			status: http.StatusInternalServerError, problem: "internal", detail: "list posts: closed pool",
		},
		{
			name: "503", b: broken, method: http.MethodGet, path: "/readyz",
			status: http.StatusServiceUnavailable, problem: "unavailable", detail: "The database is not reachable.",
			check: func(t *testing.T, r response) { require.Equal(t, "1", r.header.Get("Retry-After")) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send := func(accept string) response {
				h := tt.headers
				if accept != "" {
					h = append(append([]string{}, h...), "Accept", accept)
				}
				return tt.b.do(tt.method, tt.path, tt.contentType, tt.body, h...)
			}

			r := send(problemJSON)
			require.Equal(t, tt.status, r.status, string(r.body))
			requireVaryAccept(t, r)
			p := r.problem(t)
			uri := "https://junction.dev/problems/" + tt.problem
			require.Equal(t, uri, p.Type)
			require.Equal(t, titles[uri], p.Title)
			require.NotEmpty(t, p.Title)
			require.Equal(t, tt.path, p.Instance)
			require.NotNil(t, p.Detail)
			if tt.detail != "" {
				require.Equal(t, tt.detail, *p.Detail)
			}
			if tt.errors != nil {
				require.NotNil(t, p.Errors)
				require.Equal(t, tt.errors, *p.Errors)
			} else {
				require.Nil(t, p.Errors)
			}
			if tt.check != nil {
				tt.check(t, r)
			}

			r = send("")
			require.Equal(t, tt.status, r.status, string(r.body))
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			requireVaryAccept(t, r)
			var e api.Error
			if tt.problem == "webhook-rejected" {
				// The operation's x-rejection titles the envelope too.
				dec := json.NewDecoder(bytes.NewReader(r.body))
				dec.DisallowUnknownFields()
				require.NoError(t, dec.Decode(&e))
				require.Equal(t, titles[uri], e.Error)
			} else {
				e = r.envelope(t)
			}
			require.Equal(t, tt.path, e.Path)
			require.Equal(t, tt.method, e.Method)
			require.Equal(t, *p.Detail, *e.Message, "detail is the envelope's message")
			if tt.errors != nil {
				require.Equal(t, tt.errors, *e.Errors)
			} else {
				require.Nil(t, e.Errors)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestErrorNegotiation: the problem only where the client weighs application/problem+json above
// application/json (q-values, wildcards, several Accept lines); the envelope on every tie and for clients that
// name neither. Successes are JSON whatever Accept says, as before.
func TestErrorNegotiation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		accept  []string
		problem bool
	}{
		{nil, false},
		{[]string{"application/problem+json"}, true},
		{[]string{"application/json"}, false},
		{[]string{"*/*"}, false},
		{[]string{"application/*"}, false},
		{[]string{"application/problem+json, application/json"}, false},
		{[]string{"application/json, application/problem+json;q=0.9"}, false},
		{[]string{"application/json;q=0.9, application/problem+json"}, true},
		{[]string{"application/problem+json;q=0.5, */*;q=0.4"}, true},
		{[]string{"application/problem+json;q=0.3, */*"}, false},
		{[]string{"application/json;q=0, */*"}, true},
		{[]string{"application/*;q=0.1, application/problem+json;q=0.2"}, true},
		{[]string{"application/problem+json;q=0"}, false},
		{[]string{"application/json;q=0.5", "application/problem+json"}, true},
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{[]string{"text/html"}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.accept), func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, b.url+"/api/posts?limit=0", nil)
			require.NoError(t, err)
			for _, a := range tt.accept {
				req.Header.Add("Accept", a)
			}
			resp, err := b.http.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var body bytes.Buffer
			_, err = body.ReadFrom(resp.Body)
			require.NoError(t, err)
			r := response{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
			require.Equal(t, http.StatusBadRequest, r.status)
			requireVaryAccept(t, r)
			if tt.problem {
				require.Equal(t, "https://junction.dev/problems/invalid-request", r.problem(t).Type)
			} else {
				r.envelope(t)
			}
		})
	}

	t.Run("a success ignores it", func(t *testing.T) {
		t.Parallel()
		r := b.do(http.MethodGet, "/healthz", "", "", "Accept", problemJSON)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
	})

	t.Run("the Go client reads either", func(t *testing.T) {
		t.Parallel()
		_, token := b.signUp("Ada", "ada@example.com")
		accept := func(_ context.Context, req *http.Request) error {
			req.Header.Set("Accept", problemJSON)
			return nil
		}
		id := uuid.New()
		resp, err := b.client.GetUserWithResponse(context.Background(), id, nil, bearer(token), accept)
		require.NoError(t, err)
		require.NotNil(t, resp.ApplicationproblemJSON404, string(resp.Body))
		require.Nil(t, resp.JSON404)
		require.Equal(t, "/api/users/"+id.String(), resp.ApplicationproblemJSON404.Instance)
		resp, err = b.client.GetUserWithResponse(context.Background(), id, nil, bearer(token))
		require.NoError(t, err)
		require.NotNil(t, resp.JSON404)
		require.Nil(t, resp.ApplicationproblemJSON404)
	})

	t.Run("CORS keeps its Vary", func(t *testing.T) {
		t.Parallel()
		cors := setup(t, setupOptions{cors: []string{"https://app.example.com"}})
		r := cors.do(http.MethodGet, "/api/nothing", "", "", "Origin", "https://app.example.com", "Accept", problemJSON)
		require.Equal(t, http.StatusNotFound, r.status)
		requireVaryAccept(t, r)
		require.Contains(t, strings.Join(r.header.Values("Vary"), ","), "Origin")
		r.problem(t)
	})
}
