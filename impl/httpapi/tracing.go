package httpapi

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/clientip"
)

// traceRequests is otelhttp's server span for each request, continuing the trace of an incoming traceparent
// (prop). It must come first, so that the span covers every other middleware and the access log is written in
// it. WebSocket upgrades are left out: their span would last as long as the socket.
//
// otelhttp names a span from r.Pattern, which chi sets on the request it routes, a copy made by the middlewares
// in between that otelhttp never sees: [spanDetails] names it from chi's route context instead.
func traceRequests(tp trace.TracerProvider, prop propagation.TextMapPropagator) func(http.Handler) http.Handler {
	return otelhttp.NewMiddleware("http",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(prop),
		// Request metrics are Prometheus's (impl/metrics); the global meter would be a no-op anyway.
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool { return !webSocketUpgrade(r) }),
	)
}

// spanDetails completes the request's span, where the router's middleware has run: the request id (so that a
// trace leads to the log line and back), the client's address as [clientip] found it (otelhttp believes any
// X-Forwarded-For), and, once chi has routed the request, the name "METHOD /route/{pattern}" and http.route.
// Unmatched requests keep otelhttp's name, the method alone, so that no client can grow the set of names.
func spanDetails(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		if !span.IsRecording() {
			next.ServeHTTP(w, r)
			return
		}
		span.SetAttributes(attribute.String("junction.request_id", RequestIDFromContext(r.Context())))
		if ip := clientip.FromContext(r.Context()); ip.IsValid() {
			span.SetAttributes(semconv.ClientAddress(ip.String()))
		}
		next.ServeHTTP(w, r)
		if route := routePattern(r); route != "" {
			span.SetName(r.Method + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
	})
}
