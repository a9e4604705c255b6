package httpapi

import (
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/clientip"
)

// tracerName is the instrumentation scope of the request spans.
const tracerName = "github.com/junction-dev/junction/impl/httpapi"

// traceRequests makes a server span of each request but WebSocket upgrades (whose span would last as long as the
// socket), continuing the trace of an incoming traceparent (prop), with HTTP's semantic-convention attributes. It
// runs after the request id and the client's address are known, before the access log, which is written in the
// span. Once chi has routed the request, the span is named "METHOD /route/{pattern}" from chi's route context;
// an unmatched request keeps the method alone, so that no client can grow the set of names.
//
// Not otelhttp, which the first version used: per request, sampled or not, it builds the span's attributes before
// the sampler decides, wraps the writer and the body, and builds and records its metrics' attribute set even for
// a no-op meter (a fifth of its time). At 10% sampling it added about five times what this does to a routed
// request, 33 allocations against 8 (BenchmarkRequestSpans; figures in docs/tracing.md). An unsampled request
// here pays for reading its trace headers, the sampler, and one context.
//
// What every request pays is kept small: the trace headers are read under their canonical keys (traceHeaders), the
// start options are made once, and a sampled request's attributes are set in one call at its end, when its
// status and route are known (one copy into the span instead of three).
func traceRequests(tp trace.TracerProvider, prop propagation.TextMapPropagator) func(http.Handler) http.Handler {
	tracer := tp.Tracer(tracerName)
	start := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if webSocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			method, known := spanMethod(r.Method)
			ctx := prop.Extract(r.Context(), traceHeaders(r.Header))
			ctx, span := tracer.Start(ctx, method, start...)
			defer span.End()
			r = r.WithContext(ctx)
			if !span.IsRecording() {
				// The unsampled context goes on all the same: the jobs a request queues and the webhooks they
				// send carry its decision, and sample nothing either.
				next.ServeHTTP(w, r)
				return
			}
			attrs := requestAttributes(r, known)
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			status := rec.code()
			attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
			if status >= 500 { // a 4xx is the client's error, not the server's (the conventions' rule)
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			if route := routePattern(r); route != "" && known {
				span.SetName(method + " " + route)
				attrs = append(attrs, semconv.HTTPRoute(route))
			}
			span.SetAttributes(attrs...)
		})
	}
}

// traceHeaders reads the trace headers of a request as propagation.HeaderCarrier does, but finds the W3C ones
// under their canonical keys without canonicalizing the propagators' lower-case names on every request (an
// allocation each, two a request). TestTraceHeadersReadAsHeaderCarrier checks that both read the same.
type traceHeaders http.Header

var _ propagation.ValuesGetter = traceHeaders(nil)

// canonicalTraceKey is http.CanonicalHeaderKey(key), with the propagators' keys written out.
func canonicalTraceKey(key string) string {
	switch key {
	case "traceparent":
		return "Traceparent"
	case "tracestate":
		return "Tracestate"
	case "baggage":
		return "Baggage"
	}
	return http.CanonicalHeaderKey(key)
}

func (h traceHeaders) Get(key string) string {
	if v := h[canonicalTraceKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h traceHeaders) Values(key string) []string { return h[canonicalTraceKey(key)] }

func (h traceHeaders) Set(key, value string) { propagation.HeaderCarrier(h).Set(key, value) }

func (h traceHeaders) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

// spanMethod is the method as span names and http.request.method show it: one HTTP defines, else "HTTP" (the
// conventions' word for any other), which is not known.
func spanMethod(m string) (string, bool) {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m, true
	}
	return "HTTP", false
}

// requestAttributes are a sampled request's attributes: never its query string or headers but the user agent
// (a query or a header may carry a secret), and the client's address as the trusted proxies say, not as any
// X-Forwarded-For does.
func requestAttributes(r *http.Request, known bool) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 10) // and the status and route that traceRequests adds
	if known {
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(r.Method))
	} else {
		attrs = append(attrs, semconv.HTTPRequestMethodOther)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.URLScheme(scheme), semconv.URLPath(r.URL.Path),
		attribute.String("junction.request_id", RequestIDFromContext(r.Context())))
	if host, _, err := net.SplitHostPort(r.Host); err == nil {
		attrs = append(attrs, semconv.ServerAddress(host))
	} else if r.Host != "" {
		attrs = append(attrs, semconv.ServerAddress(r.Host))
	}
	if ip := clientip.FromContext(r.Context()); ip.IsValid() {
		attrs = append(attrs, semconv.ClientAddress(ip.String()))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	switch r.ProtoMajor {
	case 1:
		v := "1.1"
		if r.ProtoMinor != 1 {
			v = "1." + strconv.Itoa(r.ProtoMinor)
		}
		attrs = append(attrs, semconv.NetworkProtocolVersion(v))
	case 2:
		attrs = append(attrs, semconv.NetworkProtocolVersion("2"))
	}
	return attrs
}
