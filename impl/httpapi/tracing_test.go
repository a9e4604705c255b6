package httpapi_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// serverSpans are the ended server spans of rec, by name.
func serverSpans(rec *tracetest.SpanRecorder) map[string]sdktrace.ReadOnlySpan {
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			out[s.Name()] = s
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, a := range s.Attributes() {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

// TestRequestSpans: each request is a server span named by its route pattern, never by its path; it continues
// an incoming traceparent; it holds the request id of the response and the client's address as the trusted
// proxies say.
func TestRequestSpans(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	b := setup(t, setupOptions{tracerProvider: tp})
	ada, token := b.signUp("Ada", "ada@example.com")

	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	resp := b.do(http.MethodGet, "/api/users/"+ada.Id.String(), "", "", append(withToken(token),
		"traceparent", "00-"+parentTrace+"-"+parentSpan+"-01", "X-Forwarded-For", "203.0.113.9")...)
	require.Equal(t, http.StatusOK, resp.status)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/nowhere/12345", "", "").status)

	spans := serverSpans(rec)
	get, ok := spans["GET /api/users/{id}"]
	require.True(t, ok, "spans: %v", spans)
	require.Equal(t, parentTrace, get.SpanContext().TraceID().String(), "the caller's trace")
	require.Equal(t, parentSpan, get.Parent().SpanID().String(), "the caller's span is the parent")
	require.True(t, get.Parent().IsRemote())
	require.Equal(t, "/api/users/{id}", attr(get, "http.route"))
	require.Equal(t, resp.header.Get("X-Request-Id"), attr(get, "junction.request_id"))
	require.Equal(t, "200", attr(get, "http.response.status_code"))
	addr := attr(get, "client.address")
	require.True(t, netip.MustParseAddr(addr).IsLoopback(), "not the untrusted X-Forwarded-For: %s", addr)

	require.Contains(t, spans, "POST /api/users")
	require.Contains(t, spans, "GET", "an unmatched request is named by its method alone")
	for name := range spans {
		require.NotContains(t, name, "/nowhere")
		require.NotContains(t, name, ada.Id.String())
	}
}
