package jobs

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the webhook attempts' spans.
const tracerName = "github.com/junction-dev/junction/impl/jobs"

// tracingMiddleware is River's OpenTelemetry middleware (a span per insert and per job worked, "river.work/KIND"),
// with the inserting span's trace context kept in the job's metadata, behind traceParent, which makes that span
// the parent of the work. The work span carries kind, queue, attempt and id, never args (they can hold secrets).
func tracingMiddleware(tp trace.TracerProvider) []rivertype.Middleware {
	return []rivertype.Middleware{&traceParent{}, otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
		TracerProvider:              tp,
		MeterProvider:               noop.NewMeterProvider(), // Junction's job metrics are Prometheus's
		EnableTracePropagation:      true,
		EnableWorkSpanJobKindSuffix: true,
	})}
}

// traceParent puts the trace context that otelriver stored in a job's metadata at insert time into the work's
// context as its remote parent, so that the work span otelriver starts next joins the inserting request's trace:
// a sign-up, its welcome job and the email it sends are one trace, and an outgoing webhook's attempts share the
// trace of the write that published it. otelriver alone only links the work span to the insert, leaving the work
// in a trace of its own. A retry months later still lands in the original trace; the link otelriver adds says the
// same thing for tools that draw links.
type traceParent struct{ river.WorkerMiddlewareDefaults }

func (traceParent) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta struct {
		Traceparent string `json:"traceparent"`
		Tracestate  string `json:"tracestate"`
	}
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil && meta.Traceparent != "" {
		carrier := propagation.MapCarrier{"traceparent": meta.Traceparent}
		if meta.Tracestate != "" {
			carrier["tracestate"] = meta.Tracestate
		}
		ctx = propagation.TraceContext{}.Extract(ctx, carrier)
	}
	return doInner(ctx)
}
