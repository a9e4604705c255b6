// Package tracing owns Junction's OpenTelemetry tracer provider: built from [config.TracingConfig] (the OTEL_*
// variables), exporting over OTLP/HTTP in batches, flushed when it stops, and absent when tracing is off. It
// also owns the propagation format (W3C Trace Context and Baggage) and the log handler that puts a sampled
// span's ids on every log line written in its context.
//
// Nothing here is global: the provider is handed to each instrumentation (the HTTP middleware, the pgx tracer,
// River's middleware, the SMTP sender, the webhook sender) through its constructor. OpenTelemetry's global
// provider and propagator stay at their no-op defaults.
package tracing
