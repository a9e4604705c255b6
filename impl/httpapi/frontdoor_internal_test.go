package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/tracing"
)

// TestSecurityHeadersAreSharedSafely: the shared values reach every response as Header.Set would have stored
// them, and a handler that replaces or adds to one changes its own response only.
func TestSecurityHeadersAreSharedSafely(t *testing.T) {
	t.Parallel()
	want := http.Header{}
	want.Set("X-Content-Type-Options", "nosniff")
	want.Set("X-Frame-Options", "DENY")
	want.Set("Referrer-Policy", "no-referrer")
	want.Set("Cross-Origin-Opener-Policy", "same-origin")
	want.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h := securityHeaders()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/meddle" {
			w.Header().Add("X-Frame-Options", "SAMEORIGIN")
			w.Header().Set("Referrer-Policy", "origin")
		}
	}))
	serve := func(path string) http.Header {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Header()
	}
	require.Equal(t, want, serve("/api/users"))
	meddled := serve("/meddle")
	require.Equal(t, []string{"DENY", "SAMEORIGIN"}, meddled.Values("X-Frame-Options"))
	require.Equal(t, "origin", meddled.Get("Referrer-Policy"))
	require.Equal(t, want, serve("/api/users"), "the next response is untouched")
	page := serve("/docs")
	require.Empty(t, page.Get("Content-Security-Policy"), "pages have their own policy")
}

// TestRequestContextHoldsIDAndClient: one middleware puts both the request id and the client's address (as the
// trusted proxies say) in the context, and echoes the id; an insane client id is replaced.
func TestRequestContextHoldsIDAndClient(t *testing.T) {
	t.Parallel()
	var gotID, gotIP string
	h := requestContext(nil)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		gotID, gotIP = RequestIDFromContext(r.Context()), clientip.FromContext(r.Context()).String()
	}))
	for _, tc := range []struct{ sent, want string }{{"abc-123", "abc-123"}, {"bad id", ""}, {"", ""}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "203.0.113.7:4000"
		r.Header.Set("X-Request-Id", tc.sent)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, "203.0.113.7", gotIP)
		require.Equal(t, gotID, w.Header().Get("X-Request-Id"))
		if tc.want != "" {
			require.Equal(t, tc.want, gotID)
		} else {
			require.Regexp(t, `^[0-9a-f]{24}$`, gotID)
		}
	}
}

// TestCountRequestsUnderTheAccessLog: sharing the access log's recorder, the metrics still see the status sent,
// and the log its bytes.
func TestCountRequestsUnderTheAccessLog(t *testing.T) {
	t.Parallel()
	m := &fakeMetrics{}
	r := chi.NewRouter()
	var rec *statusRecorder
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec = &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
		})
	}, countRequests(m))
	r.Get("/teapot", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/teapot", nil))
	require.Equal(t, []observed{{"/teapot", http.MethodGet, http.StatusTeapot}}, m.got)
	require.Equal(t, http.StatusTeapot, rec.status)
	require.Equal(t, len("short and stout"), rec.bytes)
}

// TestValidationWithoutTheSecurityStepDecidesAlike: for every operation of openapi.yaml, kin-openapi's validation
// of the operation as written (its security step calling the no-op authentication) and of the validator's route
// without a security requirement refuse the same requests: requests without credentials, with bad parameters,
// and with good ones.
func TestValidationWithoutTheSecurityStepDecidesAlike(t *testing.T) {
	t.Parallel()
	doc, err := api.GetSpec()
	require.NoError(t, err)
	doc.Servers = nil
	problems, err := loadProblemTypes(doc)
	require.NoError(t, err)
	g, err := newGate(doc, nil, &authenticator{}, nil, errorWriter{problems: problems})
	require.NoError(t, err)
	v := g.validate
	checked := 0
	for pattern, route := range g.routes {
		method, path, _ := strings.Cut(pattern, " ")
		for _, p := range []string{path, path + "?limit=abc&include=nothing&published=maybe"} {
			params := map[string]string{}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				params[m[1]] = "not-a-uuid"
			}
			for _, good := range []bool{false, true} {
				if good {
					for k := range params {
						params[k] = "fa1260de-9ce9-4904-8a8a-2bc7377a6353"
					}
				}
				validate := func(rt *routers.Route) error {
					return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
						Request: httptest.NewRequest(method, p, nil), PathParams: params, Route: rt, Options: v.options})
				}
				full, fast := validate(route), validate(v.routes[route.Operation])
				require.Equal(t, full == nil, fast == nil, "%s %s: %v / %v", pattern, p, full, fast)
				if full != nil {
					fields, fastFields := map[string][]string{}, map[string][]string{}
					collectFieldErrors(full, fields)
					collectFieldErrors(fast, fastFields)
					require.Equal(t, fields, fastFields, pattern)
				}
				checked++
			}
		}
	}
	require.Greater(t, checked, 40)

	// The one refusal the security step could make is made at start-up instead.
	delete(doc.Components.SecuritySchemes, schemeBearer)
	_, err = compileRules(doc, problems)
	require.ErrorContains(t, err, "not declared")
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestTraceHeadersReadAsHeaderCarrier: the request span's carrier gives the propagators what
// propagation.HeaderCarrier gives them, for the trace headers and any other, so the same trace is continued.
func TestTraceHeadersReadAsHeaderCarrier(t *testing.T) {
	t.Parallel()
	prop := tracing.Propagator()
	for name, h := range map[string]http.Header{
		"none":    {},
		"parent":  {"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {"congo=t61rcWkgMzE"}},
		"baggage": {"Baggage": {"a=1", "b=2,c=3"}, "Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}},
		"garbled": {"Traceparent": {"00-zz-00f067aa0ba902b7-01"}, "Baggage": {"=;;"}},
		"twice":   {"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		"lower":   {"traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}, // not canonical: neither finds it
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := prop.Extract(context.Background(), propagation.HeaderCarrier(h))
			got := prop.Extract(context.Background(), traceHeaders(h))
			require.Equal(t, trace.SpanContextFromContext(want), trace.SpanContextFromContext(got))
			require.ElementsMatch(t, baggage.FromContext(want).Members(), baggage.FromContext(got).Members())
			for _, k := range []string{"traceparent", "tracestate", "baggage", "x-other"} {
				require.Equal(t, propagation.HeaderCarrier(h).Get(k), traceHeaders(h).Get(k), k)
				require.Equal(t, propagation.HeaderCarrier(h).Values(k), traceHeaders(h).Values(k), k)
			}
		})
	}
}
