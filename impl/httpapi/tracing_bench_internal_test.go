package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/junction-dev/junction/impl/tracing"
)

// discardExporter takes the batches and drops them, so that the benchmarks pay for batching, not for a network.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkRequestSpans is what the request span costs a routed request at 10% sampling: "off" has no tracing
// middleware (tracing off), "traced" is traceRequests, and "otelhttp" is otelhttp's middleware in its place, kept
// for the comparison that chose traceRequests (docs/tracing.md). Compare the runs' minimums, and the allocations,
// on a shared machine: go test -run '^$' -bench RequestSpans -benchtime 50000x -count 10 ./impl/httpapi
func BenchmarkRequestSpans(b *testing.B) {
	for _, variant := range []string{"off", "traced", "otelhttp"} {
		b.Run(variant, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))),
				sdktrace.WithBatcher(discardExporter{}))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			r := chi.NewRouter()
			r.Use(requestContext(nil))
			switch variant {
			case "traced":
				r.Use(traceRequests(tp, tracing.Propagator()))
			case "otelhttp":
				r.Use(otelhttp.NewMiddleware("http", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(tracing.Propagator()),
					otelhttp.WithMeterProvider(noop.NewMeterProvider())))
			}
			r.Get("/api/users/{id}", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"data":{}}`)) })
			req := httptest.NewRequest(http.MethodGet, "/api/users/fa1260de-9ce9-4904-8a8a-2bc7377a6353", nil)
			req.Header.Set("User-Agent", "bench")
			b.ReportAllocs()
			for b.Loop() {
				r.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
