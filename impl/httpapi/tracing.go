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
func traceRequests(tp trace.TracerProvider, prop propagation.TextMapPropagator) func(http.Handler) http.Handler {
	tracer := tp.Tracer(tracerName)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if webSocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			method, known := spanMethod(r.Method)
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			r = r.WithContext(ctx)
			if !span.IsRecording() {
				// The unsampled context goes on all the same: the jobs a request queues and the webhooks they
				// send carry its decision, and sample nothing either.
				next.ServeHTTP(w, r)
				return
			}
			span.SetAttributes(requestAttributes(r, known)...)
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			status := rec.code()
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 500 { // a 4xx is the client's error, not the server's (the conventions' rule)
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			if route := routePattern(r); route != "" && known {
				span.SetName(method + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
		})
	}
}

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
	attrs := make([]attribute.KeyValue, 0, 8)
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
		attrs = append(attrs, semconv.NetworkProtocolVersion("1."+strconv.Itoa(r.ProtoMinor)))
	case 2:
		attrs = append(attrs, semconv.NetworkProtocolVersion("2"))
	}
	return attrs
}
