package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler adds trace_id and span_id to every record logged in the context of a sampled span, so that a log line
// (the access log's, with its request_id, a job's outcome, an error) leads to its trace and back. An unsampled span
// adds nothing: its trace is not exported, and an id that leads nowhere would only mislead. Wrap the handler only
// when tracing is on ([Tracing.Enabled]); off, there is no span to find.
//
// The ids go where the record's other attributes go: inside the groups of a logger made WithGroup (Junction's
// loggers use none).
func LogHandler(h slog.Handler) slog.Handler { return logHandler{inner: h} }

type logHandler struct{ inner slog.Handler }

func (h logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && sc.IsSampled() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.inner.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{inner: h.inner.WithGroup(name)}
}
