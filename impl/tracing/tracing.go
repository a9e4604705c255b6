package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/config"
)

// Options are what [New] takes besides the configuration.
type Options struct {
	// SpanProcessors receive every span besides the exporter's batcher. Tracing is on with one even when no
	// endpoint is configured: the tests record spans in process this way (tracetest.SpanRecorder).
	SpanProcessors []sdktrace.SpanProcessor
	// Logger reports failed exports.
	Logger *slog.Logger
}

// Tracing is the process's tracer provider. [New] returns one that is off when nothing would receive its spans.
type Tracing struct {
	// sdk is nil when tracing is off.
	sdk *sdktrace.TracerProvider
}

// New returns the tracer provider cfg describes: off unless cfg has an endpoint or o has a span processor.
func New(ctx context.Context, cfg config.TracingConfig, o Options) (*Tracing, error) {
	if !cfg.Enabled() && len(o.SpanProcessors) == 0 {
		return &Tracing{}, nil
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler(cfg))}
	if cfg.Enabled() {
		// The exporter reads the rest of its settings (headers, timeout, compression, certificates) from the
		// process environment; the endpoint comes from cfg, which decided that tracing is on.
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint))
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
		}
		// The batcher's queue and batch sizes come from OTEL_BSP_*, read by the SDK.
		opts = append(opts, sdktrace.WithBatcher(loggingExporter{SpanExporter: exp, logger: o.Logger}))
	}
	for _, sp := range o.SpanProcessors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	return &Tracing{sdk: sdktrace.NewTracerProvider(opts...)}, nil
}

// Enabled reports whether spans are recorded and sent anywhere.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// TracerProvider is what every instrumentation starts its spans from, or nil when tracing is off. Each
// constructor that takes one adds no instrumentation for nil: the middlewares of HTTP, pgx and River, which would
// cost something per request even over a no-op provider, are left out altogether, and the few spans made by hand
// (an SMTP send, a webhook attempt) start from a no-op provider, which records nothing.
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if t.sdk == nil {
		return nil
	}
	return t.sdk
}

// Start does nothing: the provider works from New on. It is a lifecycle component for its Stop.
func (t *Tracing) Start(context.Context) error { return nil }

// Stop exports the spans still queued, then shuts the provider down, within ctx. It is the last component to
// stop, so that the spans of the last requests and jobs leave with it. Stopping twice is harmless.
func (t *Tracing) Stop(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush: %w", err)
	}
	return nil
}

// Propagator is the format of trace context across processes: W3C Trace Context (traceparent, tracestate) and
// W3C Baggage, which is what OpenTelemetry's SDKs and collectors speak by default.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

func sampler(cfg config.TracingConfig) sdktrace.Sampler {
	switch cfg.Sampler {
	case config.SamplerAlwaysOn:
		return sdktrace.AlwaysSample()
	case config.SamplerAlwaysOff:
		return sdktrace.NeverSample()
	case config.SamplerTraceIDRatio:
		return sdktrace.TraceIDRatioBased(cfg.SamplerArg)
	case config.SamplerParentBasedAlwaysOff:
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case config.SamplerParentBasedTraceIDRatio:
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SamplerArg))
	default: // config.SamplerParentBasedAlwaysOn, the specification's default
		return sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
}

// newResource describes this process: the service's name and version, OTEL_RESOURCE_ATTRIBUTES, the host, and
// the SDK. It does not use resource.Default, which reads OTEL_* from the process environment rather than cfg.
func newResource(ctx context.Context, cfg config.TracingConfig) (*resource.Resource, error) {
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+2)
	for _, kv := range cfg.ResourceAttributes {
		attrs = append(attrs, attribute.String(kv[0], kv[1]))
	}
	attrs = append(attrs, semconv.ServiceName(cfg.ServiceName))
	if v := version(); v != "" {
		attrs = append(attrs, semconv.ServiceVersion(v))
	}
	res, err := resource.New(ctx, resource.WithSchemaURL(semconv.SchemaURL), resource.WithTelemetrySDK(), resource.WithHost(),
		resource.WithAttributes(attrs...))
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

// version is the module's version, or the VCS revision a local build was made from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return ""
}

// loggingExporter logs the batches that could not be exported (after the exporter's own retries), so that an
// unreachable collector shows in Junction's log and not only in OpenTelemetry's default error handler (stderr).
type loggingExporter struct {
	sdktrace.SpanExporter
	logger *slog.Logger
}

func (e loggingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.logger.WarnContext(ctx, "trace export failed; spans dropped", "spans", len(spans), "err", err)
	}
	return err
}
