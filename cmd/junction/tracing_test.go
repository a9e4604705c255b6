package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/mailtest"
)

// spans is what a recorder holds, looked up by id and name.
type spans struct{ ended []sdktrace.ReadOnlySpan }

func (s spans) byID(id trace.SpanID) sdktrace.ReadOnlySpan {
	for _, sp := range s.ended {
		if sp.SpanContext().SpanID() == id {
			return sp
		}
	}
	return nil
}

// named is the first span called name in trace tid (any trace when tid is zero).
func (s spans) named(tid trace.TraceID, name string) sdktrace.ReadOnlySpan {
	for _, sp := range s.ended {
		if sp.Name() == name && (!tid.IsValid() || sp.SpanContext().TraceID() == tid) {
			return sp
		}
	}
	return nil
}

// childOf reports whether sp descends from ancestor.
func (s spans) childOf(sp, ancestor sdktrace.ReadOnlySpan) bool {
	for sp != nil {
		if sp.Parent().SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
		sp = s.byID(sp.Parent().SpanID())
	}
	return false
}

// waitSpans waits until every name has ended in rec, and returns what rec holds then.
func waitSpans(t *testing.T, rec *tracetest.SpanRecorder, names ...string) spans {
	t.Helper()
	var got spans
	require.Eventually(t, func() bool {
		got = spans{ended: rec.Ended()}
		for _, n := range names {
			if got.named(trace.TraceID{}, n) == nil {
				return false
			}
		}
		return true
	}, 20*time.Second, 10*time.Millisecond, "spans %v", names)
	return got
}

// logLines are the JSON lines of s's log whose msg is msg.
func logLines(t *testing.T, s *server, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func hasAttr(sp sdktrace.ReadOnlySpan, key attribute.Key) bool {
	for _, a := range sp.Attributes() {
		if a.Key == key {
			return true
		}
	}
	return false
}

// sendTraced makes one request and returns the response, its body read.
func sendTraced(t *testing.T, method, url, body string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestSignUpIsOneTrace: a sign-up is one trace from the request to the email: the HTTP span, its SQL statements,
// the welcome job's insert (and its statements), then, in the worker, the job's work and the SMTP send. No span
// holds the password or the address. The access log line and the job's outcome line carry the trace id, the
// former beside the request id.
func TestSignUpIsOneTrace(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	rec := tracetest.NewSpanRecorder()
	s := startServeWith(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t), "SMTP_URL": smtp.URL()}, []sdktrace.SpanProcessor{rec})
	const password = "correct horse battery"
	resp := sendTraced(t, http.MethodPost, s.base+"/api/users", `{"name":"Ada","email":"ada@example.com","password":"`+password+`"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	smtp.WaitAccepted(t, 1, 20*time.Second)
	got := waitSpans(t, rec, "POST /api/users", "river.work/email", "smtp send")

	req := got.named(trace.TraceID{}, "POST /api/users")
	require.Equal(t, trace.SpanKindServer, req.SpanKind())
	tid := req.SpanContext().TraceID()
	insert := got.named(tid, "river.insert_many")
	work := got.named(tid, "river.work/email")
	send := got.named(tid, "smtp send")
	for name, sp := range map[string]sdktrace.ReadOnlySpan{"insert": insert, "work": work, "send": send} {
		require.NotNil(t, sp, "the %s span is in the request's trace", name)
	}
	require.True(t, got.childOf(insert, req), "the job's insert is under the request")
	require.Equal(t, insert.SpanContext().SpanID(), work.Parent().SpanID(), "the work's parent is its insert")
	require.Equal(t, work.SpanContext().SpanID(), send.Parent().SpanID(), "the send is the work's")

	var reqSQL, insertSQL, workSQL []string
	for _, sp := range got.ended {
		if sp.SpanContext().TraceID() == tid && hasAttr(sp, "db.system.name") {
			switch { // the work is under the insert, and both under the request
			case got.childOf(sp, work):
				workSQL = append(workSQL, sp.Name())
			case got.childOf(sp, insert):
				insertSQL = append(insertSQL, sp.Name())
			case got.childOf(sp, req):
				reqSQL = append(reqSQL, sp.Name())
			}
		}
		for _, a := range sp.Attributes() {
			for _, secret := range []string{password, "ada@example.com", "$argon2id$"} {
				require.NotContains(t, a.Value.String(), secret, "%s: %s", sp.Name(), a.Key)
			}
		}
	}
	require.Contains(t, reqSQL, "UserCreate", "the request's statements, by their sqlc names")
	require.Contains(t, insertSQL, "JobInsertFastMany", "River's insert statement")
	require.Contains(t, workSQL, "EmailDeliveryCreateMany", "the worker's record of the send (a batch's, in the trace of the job that heads it)")

	access := logLines(t, s, "request")
	require.Len(t, access, 1)
	require.Equal(t, resp.Header.Get("X-Request-Id"), access[0]["request_id"])
	require.Equal(t, tid.String(), access[0]["trace_id"], "the request id and the trace id on one line")
	require.Equal(t, req.SpanContext().SpanID().String(), access[0]["span_id"])
	require.Eventually(t, func() bool { return len(logLines(t, s, "job completed")) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, tid.String(), logLines(t, s, "job completed")[0]["trace_id"], "the job's outcome line is in the trace")
}

// TestAnIncomingTraceparentIsTheParent: a caller's trace context is continued, and its sampling decision followed
// (the default sampler is parent-based): a sampled caller's request is a child span in the caller's trace, whose
// id its log line carries; an unsampled one records nothing, and its log line has no trace id.
func TestAnIncomingTraceparentIsTheParent(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	s := startServeWith(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t)}, []sdktrace.SpanProcessor{rec})
	const tid, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	sendTraced(t, http.MethodGet, s.base+"/healthz", "", "traceparent", "00-"+tid+"-"+parent+"-01", "baggage", "tenant=acme")
	sendTraced(t, http.MethodGet, s.base+"/readyz", "", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")

	got := waitSpans(t, rec, "GET /healthz")
	sp := got.named(trace.TraceID{}, "GET /healthz")
	require.Equal(t, tid, sp.SpanContext().TraceID().String())
	require.Equal(t, parent, sp.Parent().SpanID().String())
	require.True(t, sp.Parent().IsRemote())
	require.Nil(t, got.named(trace.TraceID{}, "GET /readyz"), "the caller did not sample it")

	lines := logLines(t, s, "request")
	require.Len(t, lines, 2)
	for _, l := range lines {
		switch l["route"] {
		case "/healthz":
			require.Equal(t, tid, l["trace_id"])
		case "/readyz":
			require.NotContains(t, l, "trace_id")
		}
	}
}

// TestAWebhookAttemptCarriesTheTrace: an outgoing webhook's attempt sends a traceparent of the trace of the write
// that published the event, naming the attempt's span; the Standard Webhooks signature verifies all the same.
func TestAWebhookAttemptCarriesTheTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, body)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	s := startServeWith(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t), "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"},
		[]sdktrace.SpanProcessor{rec})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	_, tok := s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`)
	bearer := []string{"Authorization", "Bearer " + tok["accessToken"].(string)}
	status, ep := s.post(t, "/api/webhook-endpoints", `{"url":"`+receiver.URL+`/hook","eventTypes":["post.published"]}`, bearer...)
	require.Equal(t, http.StatusCreated, status, "%v", ep)
	secret := ep["data"].(map[string]any)["secret"].(string)
	status, _ = s.post(t, "/api/posts", `{"title":"Notes","content":"x","published":true}`, bearer...)
	require.Equal(t, http.StatusCreated, status)

	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 }, 20*time.Second, 10*time.Millisecond)
	spans := waitSpans(t, rec, "POST /api/posts", "webhook attempt", "river.work/webhook_fanout")
	write := spans.named(trace.TraceID{}, "POST /api/posts")
	mu.Lock()
	header, body := got[0].Header, bodies[0]
	mu.Unlock()
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(t.Context(), propagation.HeaderCarrier(header)))
	require.True(t, sc.IsValid(), "traceparent: %q", header.Get("traceparent"))
	require.Equal(t, write.SpanContext().TraceID(), sc.TraceID(), "the write's trace")
	attempt := spans.byID(sc.SpanID())
	require.NotNil(t, attempt, "the traceparent names the attempt's span")
	require.Equal(t, "webhook attempt", attempt.Name())
	require.True(t, spans.childOf(attempt, write))
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(body, header), "the signature does not cover the traceparent")
}

// TestTracingOffIsOff: without OTEL_* (and no recorder), nothing traces: a caller's sampled traceparent leaves
// no trace id in the log, and no span context is sent on.
func TestTracingOffIsOff(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t)})
	sendTraced(t, http.MethodGet, s.base+"/healthz", "", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	lines := logLines(t, s, "request")
	require.Len(t, lines, 1)
	require.NotContains(t, lines[0], "trace_id")
	require.NotContains(t, s.logs.String(), "tracing on")
}

// TestSpansAreExportedOnStop: OTEL_EXPORTER_OTLP_ENDPOINT sends the spans over OTLP/HTTP, with the service's
// name; those still queued when serve stops are exported as it stops, within the shutdown, not lost.
func TestSpansAreExportedOnStop(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	names := map[string]bool{}
	var service string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					names[sp.Name] = true
				}
			}
		}
	}))
	t.Cleanup(sink.Close)
	s := startServe(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t), "OTEL_EXPORTER_OTLP_ENDPOINT": sink.URL,
		"OTEL_TRACES_SAMPLER": "always_on"})
	sendTraced(t, http.MethodGet, s.base+"/readyz", "")
	// The batcher exports every 5 s: stopping at once leaves the span to the provider's Stop.
	require.NoError(t, s.stop())
	mu.Lock()
	defer mu.Unlock()
	require.True(t, names["GET /readyz"], "exported: %v", names)
	require.Equal(t, "junction", service)
}
