package jobs

// The outgoing webhooks' workers: the fan-out, one attempt of a delivery, a recovery, and the prune.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/stdwebhook"
)

// Endpoints is what the outgoing webhooks' workers call (the endpoints service).
type Endpoints interface {
	FanOut(ctx context.Context, messageID uuid.UUID) ([]service.DeliveryTarget, error)
	Target(ctx context.Context, deliveryID uuid.UUID) (service.DeliveryTarget, error)
	Record(ctx context.Context, r service.AttemptResult) error
	RecordAll(ctx context.Context, rs []service.AttemptResult) error
	Recovering(ctx context.Context, a service.WebhookRecoverArgs, n int) ([]service.RecoverItem, error)
	Prune(ctx context.Context) (int64, error)
}

// DeliveryObserver counts attempts by outcome and times them (impl/metrics).
type DeliveryObserver interface {
	ObserveWebhookAttempt(outcome string, elapsed time.Duration)
}

// The outcomes of an attempt, as metrics label them.
const (
	OutcomeSucceeded = "succeeded"
	// OutcomeRejected is an answer that is not a 2xx (a 3xx included: redirects are not followed).
	OutcomeRejected = "rejected"
	// OutcomeUnreachable is no answer: a refused address, a connection that failed, a timeout.
	OutcomeUnreachable = "unreachable"
	// OutcomeSkipped is nothing sent, as the endpoint was disabled.
	OutcomeSkipped = "skipped"
)

// UserAgent is what Junction's deliveries say they are.
const UserAgent = "Junction-Webhooks/1.0 (+https://github.com/junction-dev/junction)"

// sender makes attempts: signs the body anew with this attempt's time, POSTs it with the outbound client (the
// destination policy, timeouts, no redirects), and reads at most what the log keeps of the answer. slots bounds
// the attempts in flight in this process (WEBHOOK_CONCURRENCY), whichever job makes them. Each attempt is a span
// whose context goes to the receiver in a traceparent header.
type sender struct {
	client  *http.Client
	observe DeliveryObserver
	tracer  trace.Tracer
	now     func() time.Time
	slots   chan struct{}
}

// newSender returns a sender; tp nil makes no spans.
func newSender(client *http.Client, observe DeliveryObserver, concurrency int, tp trace.TracerProvider) *sender {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &sender{client: client, observe: observe, tracer: tp.Tracer(tracerName), now: time.Now, slots: make(chan struct{}, max(concurrency, 1))}
}

// attemptAll makes the attempts of ts at once, as slots allow, and returns what came of the ones made, and how many
// were not made because ctx ended first (the job's timeout, or the worker stopping), which are for a re-run.
func (s *sender) attemptAll(ctx context.Context, ts []service.DeliveryTarget) ([]service.AttemptResult, int) {
	results := make([]service.AttemptResult, len(ts))
	made := make([]bool, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		if !t.Deliver {
			if t.Skipped {
				s.observe.ObserveWebhookAttempt(OutcomeSkipped, 0)
			}
			continue
		}
		wg.Go(func() { results[i], made[i] = s.attempt(ctx, t, false) })
	}
	wg.Wait()
	out, unmade := results[:0], 0
	for i, r := range results {
		switch {
		case made[i]:
			out = append(out, r)
		case ts[i].Deliver:
			unmade++
		}
	}
	return out, unmade
}

// attempt makes t's attempt and returns what came of it, or false when it was not made, or cut short without an
// answer, because ctx ended (the job's timeout, the worker stopping): that is not the receiver's failure, and is
// left unrecorded for the job's re-run to make again.
func (s *sender) attempt(ctx context.Context, t service.DeliveryTarget, final bool) (service.AttemptResult, bool) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return service.AttemptResult{}, false
	}
	r := service.AttemptResult{
		DeliveryID: t.DeliveryID, EndpointID: t.EndpointID, MessageID: t.MessageID, New: t.New, Attempt: t.Attempt,
		AttemptedAt: s.now(), Final: final,
	}
	ctx, span := s.startAttempt(ctx, t)
	made := true
	defer func() { endAttempt(span, r, made) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(t.Body))
	if err != nil {
		r.Err = "the endpoint's URL cannot be requested"
		s.observe.ObserveWebhookAttempt(OutcomeUnreachable, 0)
		return r, true
	}
	req.Header = stdwebhook.Headers(t.Keys, t.MessageID.String(), r.AttemptedAt, t.Body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	// The signature covers the id, the timestamp and the body, not the headers: a traceparent leaves it valid.
	// Trace context only: the baggage of whoever made the write is not the receiver's business.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			made = false
			return service.AttemptResult{}, false
		}
		r.Duration = s.now().Sub(r.AttemptedAt)
		r.Err = describe(err)
		s.observe.ObserveWebhookAttempt(OutcomeUnreachable, r.Duration)
		return r, true
	}
	r.Response, err = outbound.ReadLimited(resp.Body, service.WebhookResponseKeep)
	_ = resp.Body.Close()
	r.Duration = s.now().Sub(r.AttemptedAt)
	r.StatusCode = resp.StatusCode
	if err != nil && !r.Succeeded() {
		r.Err = describe(err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), r.AttemptedAt)
	}
	outcome := OutcomeRejected
	if r.Succeeded() {
		outcome = OutcomeSucceeded
	}
	s.observe.ObserveWebhookAttempt(outcome, r.Duration)
	return r, true
}

// startAttempt starts an attempt's client span. It names the endpoint, the message and the receiver's host, never
// the URL's path or query, which may hold the receiver's own secret.
func (s *sender) startAttempt(ctx context.Context, t service.DeliveryTarget) (context.Context, trace.Span) {
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodPost,
		attribute.String("webhook.endpoint_id", t.EndpointID.String()),
		attribute.String("webhook.message_id", t.MessageID.String()),
		attribute.String("webhook.delivery_id", t.DeliveryID.String()),
		attribute.Int("webhook.attempt", t.Attempt),
	}
	if u, err := url.Parse(t.URL); err == nil {
		attrs = append(attrs, semconv.ServerAddress(u.Hostname()))
	}
	return s.tracer.Start(ctx, "webhook attempt", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// endAttempt ends an attempt's span with what came of it: the status, or why there was none (describe's words),
// or that it was cut short (made false), to be made again.
func endAttempt(span trace.Span, r service.AttemptResult, made bool) {
	switch {
	case !made:
		span.SetStatus(codes.Error, "cut short: the job's time ran out or its worker stopped")
	case !r.Succeeded():
		span.SetStatus(codes.Error, cmp.Or(r.Err, "rejected"))
	}
	if r.StatusCode != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(r.StatusCode))
	}
	span.End()
}

// recordTimeout bounds the record of attempts made, which outlives the job's context: an answer that came just
// before a job's time ran out is recorded all the same, or its retry would send it again.
const recordTimeout = 10 * time.Second

// recording is ctx for the record of attempts made: not ended with ctx, bounded by recordTimeout.
func recording(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// errUnmade is a job's error when ctx ended before some of its attempts were made: River runs it again.
func errUnmade(ctx context.Context, n int) error {
	return fmt.Errorf("%d webhook attempts not made: %w", n, context.Cause(ctx))
}

// describe says why an attempt got no answer, in words for the endpoint's owner: the kind of failure, never an
// address the name resolved to (which would tell a caller about the network Junction runs in).
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, outbound.ErrForbiddenAddress):
		return "refused: the host resolves to an address Junction does not send to"
	case errors.Is(err, outbound.ErrInvalidURL):
		return "refused: " + err.Error()
	case errors.Is(err, outbound.ErrUnresolvable):
		return "the host name does not resolve"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, new(*net.DNSError)):
		return "the host name does not resolve"
	}
	return "the connection failed"
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date; zero when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.Duration(min(n, int64(30*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// FanOutWorker makes a message's deliveries and their first attempts, at once, recording them together: a job
// per message rather than per delivery. A run retried after a crash sends again what it had not recorded.
type FanOutWorker struct {
	river.WorkerDefaults[service.WebhookFanOutArgs]
	svcs   *Services
	sender *sender
}

// Work fans the message out and makes the first attempts.
func (w *FanOutWorker) Work(ctx context.Context, job *river.Job[service.WebhookFanOutArgs]) error {
	targets, err := w.svcs.Endpoints.FanOut(ctx, job.Args.MessageID)
	if err != nil {
		return err
	}
	results, unmade := w.sender.attemptAll(ctx, targets)
	rctx, cancel := recording(ctx)
	defer cancel()
	if err := w.svcs.Endpoints.RecordAll(rctx, results); err != nil {
		return err
	}
	if unmade > 0 {
		return errUnmade(ctx, unmade)
	}
	return nil
}

// Timeout leaves room for the exchanges, made at once; the records have recordTimeout besides.
func (w *FanOutWorker) Timeout(*river.Job[service.WebhookFanOutArgs]) time.Duration {
	return outbound.DefaultTotalTimeout + 30*time.Second
}

// DeliveryWorker makes one attempt of a delivery and records it; the record queues the next attempt.
type DeliveryWorker struct {
	river.WorkerDefaults[service.WebhookDeliveryArgs]
	svcs   *Services
	sender *sender
}

// Work attempts the delivery once. A job that runs again after a crash finds the attempt unrecorded and makes it
// again (at least once); one that finds the delivery done does nothing.
func (w *DeliveryWorker) Work(ctx context.Context, job *river.Job[service.WebhookDeliveryArgs]) error {
	return deliver(ctx, w.svcs.Endpoints, w.sender, job.Args.DeliveryID, job.Args.Final)
}

func deliver(ctx context.Context, eps Endpoints, s *sender, id uuid.UUID, final bool) error {
	t, err := eps.Target(ctx, id)
	if service.ErrorCode(err) == service.ENOTFOUND {
		return nil // its endpoint was deleted
	}
	if err != nil {
		return err
	}
	if !t.Deliver {
		if t.Skipped {
			s.observe.ObserveWebhookAttempt(OutcomeSkipped, 0)
		}
		return nil
	}
	r, made := s.attempt(ctx, t, final)
	if !made {
		return errUnmade(ctx, 1)
	}
	rctx, cancel := recording(ctx)
	defer cancel()
	return eps.Record(rctx, r)
}

// Timeout leaves room for the exchange's own bound and the record.
func (w *DeliveryWorker) Timeout(*river.Job[service.WebhookDeliveryArgs]) time.Duration {
	return outbound.DefaultTotalTimeout + 15*time.Second
}

// recoverBatch is how many deliveries one run of a recovery re-sends, one after another; the next run takes the
// rest. At the exchange's bound each, a run stays within its timeout, and that within JOB_RESCUE_STUCK_AFTER's
// default (5 min): a run that outlasted it would be rescued while it still runs, and sent twice.
const recoverBatch = 10

// RecoverWorker re-sends the failed deliveries a recovery claimed, in event order, one at a time, a batch per run.
type RecoverWorker struct {
	river.WorkerDefaults[service.WebhookRecoverArgs]
	svcs   *Services
	sender *sender
}

// Work re-sends the next batch, then queues the run after it. A run retried after a crash skips what it re-sent
// already, as a recorded attempt releases the delivery from the recovery.
func (w *RecoverWorker) Work(ctx context.Context, job *river.Job[service.WebhookRecoverArgs]) error {
	a := job.Args
	items, err := w.svcs.Endpoints.Recovering(ctx, a, recoverBatch)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := deliver(ctx, w.svcs.Endpoints, w.sender, it.DeliveryID, true); err != nil {
			return err
		}
		a.AfterAt, a.AfterID = it.EventAt, it.DeliveryID
	}
	if len(items) < recoverBatch {
		return nil
	}
	_, err = river.ClientFromContext[pgx.Tx](ctx).Insert(ctx, a, nil)
	return err
}

// Timeout bounds a run of a batch at the exchange's bound each.
func (w *RecoverWorker) Timeout(*river.Job[service.WebhookRecoverArgs]) time.Duration {
	return recoverBatch*(outbound.DefaultTotalTimeout+5*time.Second) + 30*time.Second
}
