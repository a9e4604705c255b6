package jobs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
)

// TestAWriteIsOneTraceToItsWebhooks: the write that publishes an event, the fan-out job, the retry's job and both
// attempts are one trace. Each attempt is a span whose context reaches the receiver as a traceparent, and the
// signature still verifies with it.
func TestAWriteIsOneTraceToItsWebhooks(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	b := setupWith(t, setupOptions{tracerProvider: tp, schedule: retry.Schedule{Delays: []time.Duration{100 * time.Millisecond}}})
	ada, _ := b.actor(t, "Ada", false)
	answers := []answer{{status: http.StatusInternalServerError}, ok}
	r := newReceiver(t, func(n int) answer { return answers[min(n, len(answers))-1] })
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)

	ctx, write := tp.Tracer("test").Start(ada, "write")
	publish(t, b, ctx, "Notes")
	write.End()
	got := r.wait(t, 2)

	attempts := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	// Until both attempts and the jobs' work around them have ended: a work span ends after its attempt's.
	require.Eventually(t, func() bool {
		for _, s := range rec.Ended() {
			byID[s.SpanContext().SpanID()] = s
			if s.Name() == "webhook attempt" {
				attempts[s.SpanContext().SpanID()] = s
			}
		}
		for _, a := range attempts {
			if byID[a.Parent().SpanID()] == nil {
				return false
			}
		}
		return len(attempts) == 2
	}, 10*time.Second, 10*time.Millisecond)
	for _, d := range got {
		verify(t, e.Secret, d)
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(d.header)))
		require.True(t, sc.IsValid(), "traceparent %q", d.header.Get("traceparent"))
		require.Equal(t, write.SpanContext().TraceID(), sc.TraceID(), "the write's trace")
		attempt, ok := attempts[sc.SpanID()]
		require.True(t, ok, "the traceparent names the attempt's span")
		// Up from the attempt: a job's work span, the insert that queued it, and so back to the write.
		work := byID[attempt.Parent().SpanID()]
		require.NotNil(t, work)
		require.Contains(t, []string{"river.work/webhook_fanout", "river.work/webhook_delivery"}, work.Name())
		require.Equal(t, trace.SpanKindConsumer, work.SpanKind())
	}
	var fanOutInsert sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if strings.HasPrefix(s.Name(), "river.work/webhook_") {
			require.Equal(t, write.SpanContext().TraceID(), s.SpanContext().TraceID(), "%s is in the write's trace", s.Name())
		}
		if s.Name() == "river.insert_many" && s.Parent().SpanID() == write.SpanContext().SpanID() {
			fanOutInsert = s
		}
	}
	require.NotNil(t, fanOutInsert, "the fan-out's insert is the write's child")
}
