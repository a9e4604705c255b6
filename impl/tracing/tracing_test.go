package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/tracing"
)

func TestOffIsNoProvider(t *testing.T) {
	t.Parallel()
	tr, err := tracing.New(context.Background(), config.TracingConfig{Sampler: config.SamplerAlwaysOn}, tracing.Options{})
	require.NoError(t, err)
	require.False(t, tr.Enabled())
	require.Nil(t, tr.TracerProvider(), "nil: every constructor leaves its instrumentation out")
	require.NoError(t, tr.Stop(context.Background()))
}

func TestSamplers(t *testing.T) {
	t.Parallel()
	remote := func(sampled bool) context.Context {
		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true,
			TraceFlags: map[bool]trace.TraceFlags{true: trace.FlagsSampled, false: 0}[sampled],
		})
		return trace.ContextWithRemoteSpanContext(context.Background(), sc)
	}
	tests := []struct {
		sampler string
		arg     float64
		ctx     context.Context
		want    bool
	}{
		{config.SamplerAlwaysOn, 1, remote(false), true},
		{config.SamplerAlwaysOff, 1, remote(true), false},
		{config.SamplerTraceIDRatio, 0, context.Background(), false},
		{config.SamplerTraceIDRatio, 1, context.Background(), true},
		{config.SamplerParentBasedAlwaysOn, 1, remote(false), false},
		{config.SamplerParentBasedAlwaysOff, 1, remote(true), true},
		{config.SamplerParentBasedAlwaysOff, 1, context.Background(), false},
		{config.SamplerParentBasedTraceIDRatio, 0, remote(true), true},
		{config.SamplerParentBasedTraceIDRatio, 0, context.Background(), false},
	}
	for _, tt := range tests {
		rec := tracetest.NewSpanRecorder()
		tr, err := tracing.New(context.Background(), config.TracingConfig{Sampler: tt.sampler, SamplerArg: tt.arg, ServiceName: "t"},
			tracing.Options{SpanProcessors: []sdktrace.SpanProcessor{rec}})
		require.NoError(t, err)
		require.True(t, tr.Enabled())
		_, span := tr.TracerProvider().Tracer("t").Start(tt.ctx, "s")
		require.Equal(t, tt.want, span.IsRecording(), "%s(%g)", tt.sampler, tt.arg)
		span.End()
		require.NoError(t, tr.Stop(context.Background()))
	}
}

// TestStopFlushesToTheEndpoint: spans go to the configured OTLP/HTTP endpoint, with the service's name, when the
// provider stops, long before the batcher's own 5 s schedule.
func TestStopFlushesToTheEndpoint(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*collectortrace.ExportTraceServiceRequest
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &collectortrace.ExportTraceServiceRequest{}
		if r.URL.Path != "/otlp/v1/traces" || proto.Unmarshal(body, req) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer sink.Close()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": "x", "OTEL_EXPORTER_OTLP_ENDPOINT": sink.URL + "/otlp", "OTEL_SERVICE_NAME": "junction-test"}[k]
	})
	require.NoError(t, err)
	tr, err := tracing.New(context.Background(), cfg.Tracing, tracing.Options{})
	require.NoError(t, err)
	_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "exported")
	span.End()
	require.NoError(t, tr.Stop(context.Background()))
	require.NoError(t, tr.Stop(context.Background()), "stopping twice is harmless")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	rs := got[0].ResourceSpans[0]
	var service string
	for _, a := range rs.Resource.Attributes {
		if a.Key == "service.name" {
			service = a.Value.GetStringValue()
		}
	}
	require.Equal(t, "junction-test", service)
	require.Equal(t, "exported", rs.ScopeSpans[0].Spans[0].Name)
}

func TestLogHandlerAddsTheSampledSpansIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).With("request_id", "r1")
	line := func(ctx context.Context) map[string]any {
		buf.Reset()
		logger.InfoContext(ctx, "request")
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0xab}, SpanID: trace.SpanID{0xcd}, TraceFlags: trace.FlagsSampled})
	m := line(trace.ContextWithSpanContext(context.Background(), sc))
	require.Equal(t, sc.TraceID().String(), m["trace_id"])
	require.Equal(t, sc.SpanID().String(), m["span_id"])
	require.Equal(t, "r1", m["request_id"], "beside the request id")

	m = line(trace.ContextWithSpanContext(context.Background(), sc.WithTraceFlags(0)))
	require.NotContains(t, m, "trace_id", "an unsampled trace is exported nowhere")
	m = line(context.Background())
	require.NotContains(t, m, "trace_id")
}
