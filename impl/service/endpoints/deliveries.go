package endpoints

// The deliveries half: the outbox's fan-out, each attempt's target and record, the delivery log, and re-sending.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// errDisabled refuses to send to an endpoint that is disabled, now: its owner enables it first.
var errDisabled = &service.Error{Code: service.ECONFLICT, Message: "The webhook endpoint is disabled; enable it first."}

// testMessage is the data of every webhook.test event.
const testMessage = "This is a test event from Junction."

// FanOut returns the first attempts of message id's deliveries, one per endpoint that takes it now, for the
// fan-out worker to make and [Service.RecordAll] to record: up to [service.WebhookFanOutInline] of them, each
// delivery New (made as its attempt is recorded, so that a delivery costs one write, not a write and an update).
// The others are made pending now, with a job each, in one transaction. A fan-out that runs again (its job retried
// after a crash) returns only what its first run did not record, and so sends those again: at least once.
func (s *Service) FanOut(ctx context.Context, id uuid.UUID) ([]service.DeliveryTarget, error) {
	rows, err := s.core.Queries.WebhookFanOutTargets(ctx, s.core.DB, id)
	if err != nil {
		return nil, fmt.Errorf("fan out webhook message %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	body := rows[0].Payload
	if rest := rows[min(len(rows), service.WebhookFanOutInline):]; len(rest) > 0 {
		if err := s.makePending(ctx, id, rest); err != nil {
			return nil, fmt.Errorf("fan out webhook message %s: %w", id, err)
		}
		rows = rows[:service.WebhookFanOutInline]
	}
	targets := make([]service.DeliveryTarget, len(rows))
	for i, row := range rows {
		keys, err := s.keys(row.SecretSealed, row.PreviousSecretSealed, row.PreviousSecretExpiresAt)
		if err != nil {
			return nil, fmt.Errorf("fan out webhook message %s: %w", id, err)
		}
		targets[i] = service.DeliveryTarget{
			DeliveryID: uuid.New(), EndpointID: row.ID, MessageID: id, URL: row.Url, Body: body, Keys: keys,
			Attempt: 1, Deliver: true, New: true,
		}
	}
	return targets, nil
}

// makePending makes message id's deliveries to the endpoints of rows, pending, each with the job that attempts it.
func (s *Service) makePending(ctx context.Context, id uuid.UUID, rows []db.WebhookFanOutTargetsRow) error {
	p := db.WebhookDeliveriesMakeParams{MessageID: id, Ids: make([]uuid.UUID, len(rows)), EndpointIds: make([]uuid.UUID, len(rows))}
	for i, row := range rows {
		p.Ids[i], p.EndpointIds[i] = uuid.New(), row.ID
	}
	return s.core.InTx(ctx, func(tx pgx.Tx) error {
		made, err := s.core.Queries.WebhookDeliveriesMake(ctx, postgres.CustomPlans(tx), p)
		if err != nil {
			return err
		}
		jobs := make([]river.InsertManyParams, len(made))
		for i, d := range made {
			jobs[i] = river.InsertManyParams{Args: service.WebhookDeliveryArgs{DeliveryID: d}}
		}
		return s.core.EnqueueMany(ctx, tx, jobs)
	})
}

// Target returns what the next attempt of delivery id sends, and where. A delivery that is gone (its endpoint
// was deleted) is ENOTFOUND; one that outlived its endpoint (made while it was being deleted) is deleted then.
// For the delivery worker.
func (s *Service) Target(ctx context.Context, id uuid.UUID) (service.DeliveryTarget, error) {
	targets, err := s.targets(ctx, []uuid.UUID{id})
	if err != nil {
		return service.DeliveryTarget{}, fmt.Errorf("webhook delivery target: %w", err)
	}
	if len(targets) == 0 {
		if _, err := s.core.Queries.WebhookDeliveryDeleteOrphan(ctx, s.core.DB, id); err != nil {
			return service.DeliveryTarget{}, fmt.Errorf("webhook delivery target: %w", err)
		}
		return service.DeliveryTarget{}, core.NotFound("Webhook delivery")
	}
	return targets[0], nil
}

// targets returns the next attempts of deliveries ids that still exist. One that is pending for an endpoint
// disabled meanwhile is not sent: it is recorded failed ("not sent"), a final attempt, and its target says
// Skipped. One no longer pending is neither sent nor Skipped.
func (s *Service) targets(ctx context.Context, ids []uuid.UUID) ([]service.DeliveryTarget, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.core.Queries.WebhookDeliveryTargets(ctx, postgres.CustomPlans(s.core.DB), ids)
	if err != nil {
		return nil, err
	}
	out := make([]service.DeliveryTarget, len(rows))
	for i, row := range rows {
		t := service.DeliveryTarget{
			DeliveryID: row.ID, EndpointID: row.EndpointID, MessageID: row.MessageID, URL: row.Url, Body: row.Payload,
			Attempt: int(row.Attempts) + 1,
		}
		switch {
		case service.WebhookDeliveryStatus(row.Status) != service.DeliveryPending:
			// done already
		case !row.Enabled:
			t.Skipped = true
			if err := s.Record(ctx, service.AttemptResult{
				DeliveryID: t.DeliveryID, EndpointID: t.EndpointID, Attempt: t.Attempt, AttemptedAt: s.deps.Now(),
				Err: "not sent: the endpoint is disabled", Final: true, EndpointDisabled: true,
			}); err != nil {
				return nil, err
			}
		default:
			if t.Keys, err = s.keys(row.SecretSealed, row.PreviousSecretSealed, row.PreviousSecretExpiresAt); err != nil {
				return nil, err
			}
			t.Deliver = true
		}
		out[i] = t
	}
	return out, nil
}

// RecordAll records attempts as [Service.Record] does, the successful ones in a statement per kind: first
// attempts of new deliveries (a fan-out's, all of one message) make them, others update them.
func (s *Service) RecordAll(ctx context.Context, rs []service.AttemptResult) error {
	var ok db.WebhookAttemptsSucceededParams
	first := map[uuid.UUID]*db.WebhookFirstAttemptsSucceededParams{}
	var errs []error
	for _, r := range rs {
		switch {
		case !r.Succeeded():
			errs = append(errs, s.Record(ctx, r))
		case r.New:
			p := first[r.MessageID]
			if p == nil {
				p = &db.WebhookFirstAttemptsSucceededParams{MessageID: r.MessageID}
				first[r.MessageID] = p
			}
			p.DeliveryIds = append(p.DeliveryIds, r.DeliveryID)
			p.EndpointIds = append(p.EndpointIds, r.EndpointID)
			p.AttemptedAts = append(p.AttemptedAts, r.AttemptedAt)
			p.StatusCodes = append(p.StatusCodes, int32(r.StatusCode))
			p.DurationsMs = append(p.DurationsMs, durationMs(r.Duration))
			p.Responses = append(p.Responses, keepable(r.Response))
		default:
			ok.DeliveryIds = append(ok.DeliveryIds, r.DeliveryID)
			ok.Attempts = append(ok.Attempts, int32(r.Attempt))
			ok.AttemptedAts = append(ok.AttemptedAts, r.AttemptedAt)
			ok.StatusCodes = append(ok.StatusCodes, int32(r.StatusCode))
			ok.DurationsMs = append(ok.DurationsMs, durationMs(r.Duration))
			ok.Responses = append(ok.Responses, keepable(r.Response))
		}
	}
	// Custom plans: these tables start empty, and a generic plan made then (a sequential scan) would be kept as
	// they grow, until an ANALYZE.
	for _, p := range first {
		if _, err := s.core.Queries.WebhookFirstAttemptsSucceeded(ctx, s.core.DB, *p); err != nil {
			errs = append(errs, fmt.Errorf("record webhook attempts: %w", err))
		}
	}
	if len(ok.DeliveryIds) > 0 {
		if _, err := s.core.Queries.WebhookAttemptsSucceeded(ctx, postgres.CustomPlans(s.core.DB), ok); err != nil {
			errs = append(errs, fmt.Errorf("record webhook attempts: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Record keeps what an attempt came to and decides what follows: a success ends the delivery and its endpoint's
// failing streak; a failure queues the next attempt on the schedule (after Retry-After, within bounds), or ends
// the delivery failed when none is left. A 410 disables the endpoint at once, and so do 5 days of failures;
// either way its owner is emailed. An attempt recorded already (its job ran twice) changes nothing. For the
// delivery worker.
func (s *Service) Record(ctx context.Context, r service.AttemptResult) error {
	if r.Succeeded() {
		return s.RecordAll(ctx, []service.AttemptResult{r})
	}
	response := keepable(r.Response)
	gone := r.StatusCode == 410
	var next *time.Time
	if !r.Final && !gone {
		if d, ok := s.deps.Schedule.Next(r.Attempt, r.RetryAfter, s.deps.Rand); ok {
			next = new(r.AttemptedAt.Add(r.Duration).Add(d))
		}
	}
	var code *int32
	if r.StatusCode != 0 {
		code = new(int32(r.StatusCode))
	}
	var errText *string
	if r.Err != "" {
		errText = &r.Err
	}
	err := s.core.InTx(ctx, func(tx pgx.Tx) error {
		if r.New {
			// A fan-out's first attempt: the delivery is made pending with it, its attempt recorded below.
			if _, err := s.core.Queries.WebhookDeliveriesMake(ctx, postgres.CustomPlans(tx), db.WebhookDeliveriesMakeParams{
				MessageID: r.MessageID, Ids: []uuid.UUID{r.DeliveryID}, EndpointIds: []uuid.UUID{r.EndpointID},
				CreatedAt: &r.AttemptedAt,
			}); err != nil {
				return err
			}
		}
		_, err := s.core.Queries.WebhookAttemptFailed(ctx, tx, db.WebhookAttemptFailedParams{
			DeliveryID: r.DeliveryID, Attempt: int32(r.Attempt), AttemptedAt: r.AttemptedAt, StatusCode: code,
			Error: errText, DurationMs: durationMs(r.Duration), Response: response, NextAttemptAt: next,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // recorded already, or the delivery is gone
		}
		if err != nil {
			return err
		}
		if next != nil {
			if err := s.core.EnqueueAt(ctx, tx, service.WebhookDeliveryArgs{DeliveryID: r.DeliveryID}, *next); err != nil {
				return err
			}
		}
		switch {
		case r.EndpointDisabled:
			return nil // not the receiver's failure
		case gone:
			return s.disable(ctx, tx, r.EndpointID, service.DisabledGone)
		}
		since, err := s.core.Queries.WebhookEndpointFailing(ctx, tx, db.WebhookEndpointFailingParams{ID: r.EndpointID, Now: s.deps.Now()})
		if err != nil {
			return err
		}
		if s.deps.Now().Sub(since) >= service.WebhookFailingDisables {
			return s.disable(ctx, tx, r.EndpointID, service.DisabledFailing)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	return nil
}

// disable disables endpoint id for reason and queues the email that tells its owner, once.
func (s *Service) disable(ctx context.Context, tx pgx.Tx, id uuid.UUID, reason string) error {
	e, err := s.core.Queries.WebhookEndpointDisable(ctx, tx, db.WebhookEndpointDisableParams{ID: id, Reason: &reason})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // disabled already
	}
	if err != nil {
		return fmt.Errorf("disable webhook endpoint: %w", err)
	}
	s.core.Logger.WarnContext(ctx, "webhook endpoint disabled", "endpoint", id, "reason", reason)
	owner, err := s.core.Queries.UserGetByID(ctx, tx, e.OwnerID)
	if err != nil {
		return fmt.Errorf("load endpoint owner: %w", err)
	}
	return s.core.Enqueue(ctx, tx, service.EmailArgs{
		Type: service.EmailWebhookDisabled, To: owner.Email, Name: owner.Name,
		EndpointID: id.String(), EndpointURL: e.Url, DisabledReason: reason,
	})
}

// durationMs is d in whole milliseconds, as the log keeps it.
func durationMs(d time.Duration) int32 { return int32(min(d.Milliseconds(), 1<<31-1)) }

// keepable is the start of a receiver's answer as the log keeps it: at most WebhookResponseKeep bytes, valid
// UTF-8 (what is not becomes U+FFFD), no NUL, which PostgreSQL's text cannot hold.
func keepable(b []byte) string {
	b = b[:min(len(b), service.WebhookResponseKeep)]
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	for len(s) > service.WebhookResponseKeep {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// ListDeliveries returns a page of the deliveries to an endpoint of the caller's (any, for an admin), newest
// event first, each with its latest attempts.
func (s *Service) ListDeliveries(ctx context.Context, endpointID uuid.UUID, p service.ListWebhookDeliveriesParams) (service.WebhookDeliveryPage, error) {
	if _, err := s.visible(ctx, endpointID); err != nil {
		return service.WebhookDeliveryPage{}, err
	}
	fe := core.FieldErrors{}
	core.CheckPage(fe, &p.Page, &p.Limit)
	switch p.Status {
	case "", service.DeliveryPending, service.DeliverySucceeded, service.DeliveryFailed:
	default:
		fe.Add("status", "must be pending, succeeded or failed")
	}
	if p.EventType != "" && !known(p.EventType) {
		fe.Add("eventType", "must be an event type")
	}
	if err := fe.Err(); err != nil {
		return service.WebhookDeliveryPage{}, err
	}
	status, eventType := optional(string(p.Status)), optional(string(p.EventType))
	rows, err := s.core.Queries.WebhookDeliveryList(ctx, s.core.DB, db.WebhookDeliveryListParams{
		EndpointID: endpointID, Status: status, EventType: eventType,
		RowLimit: int32(p.Limit), RowOffset: core.Offset(p.Page, p.Limit),
	})
	if err != nil {
		return service.WebhookDeliveryPage{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	total, err := s.core.Queries.WebhookDeliveryCount(ctx, s.core.DB, db.WebhookDeliveryCountParams{
		EndpointID: endpointID, Status: status, EventType: eventType,
	})
	if err != nil {
		return service.WebhookDeliveryPage{}, fmt.Errorf("count webhook deliveries: %w", err)
	}
	out, err := s.withAttempts(ctx, s.core.DB, rows)
	if err != nil {
		return service.WebhookDeliveryPage{}, err
	}
	return service.WebhookDeliveryPage{Deliveries: out, Total: total}, nil
}

// Retry sends a failed delivery to an endpoint of the caller's once more, now: one attempt.
func (s *Service) Retry(ctx context.Context, endpointID, deliveryID uuid.UUID) (service.WebhookDelivery, error) {
	e, _, err := s.mine(ctx, endpointID)
	if err != nil {
		return service.WebhookDelivery{}, err
	}
	if !e.Enabled {
		return service.WebhookDelivery{}, errDisabled
	}
	var out []service.WebhookDelivery
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		row, err := s.core.Queries.WebhookDeliveryRequeue(ctx, tx, db.WebhookDeliveryRequeueParams{ID: deliveryID, EndpointID: endpointID})
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := s.core.Queries.WebhookDeliveryGet(ctx, tx, db.WebhookDeliveryGetParams{ID: deliveryID, EndpointID: endpointID}); errors.Is(err, pgx.ErrNoRows) {
				return core.NotFound("Webhook delivery")
			}
			return &service.Error{Code: service.ECONFLICT, Message: "Only a failed delivery can be re-sent."}
		}
		if err != nil {
			return err
		}
		if err := s.core.Enqueue(ctx, tx, service.WebhookDeliveryArgs{DeliveryID: deliveryID, Final: true}); err != nil {
			return err
		}
		// In the transaction, not from the pool after it: a keyed request keeps its connection until its
		// answer is stored, and as many at once as the pool has would each wait for a second.
		out, err = s.withAttempts(ctx, tx, []db.WebhookDelivery{row})
		return err
	})
	var se *service.Error
	if errors.As(err, &se) {
		return service.WebhookDelivery{}, se
	}
	if err != nil {
		return service.WebhookDelivery{}, fmt.Errorf("retry webhook delivery: %w", err)
	}
	return out[0], nil
}

// Recover re-sends every delivery to an endpoint of the caller's that failed for an event since since, once, one
// at a time in event order (a job), and returns how many. It claims them in its transaction, so that a second
// recovery, even at once, finds none of them to send again.
func (s *Service) Recover(ctx context.Context, endpointID uuid.UUID, since time.Time) (int, error) {
	e, _, err := s.mine(ctx, endpointID)
	if err != nil {
		return 0, err
	}
	now := s.deps.Now()
	switch {
	case since.After(now):
		return 0, core.Invalid("since", "must not be in the future")
	case since.Before(now.Add(-service.WebhookRetention)):
		return 0, core.Invalid("since", "must be at most 30 days ago: older deliveries are not kept")
	}
	if !e.Enabled {
		return 0, errDisabled
	}
	recovery := uuid.New()
	var n int64
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		n, err = s.core.Queries.WebhookDeliveryClaimFailedSince(ctx, tx, db.WebhookDeliveryClaimFailedSinceParams{
			EndpointID: endpointID, Since: since, RecoveryID: &recovery,
		})
		if err != nil || n == 0 {
			return err
		}
		return s.core.Enqueue(ctx, tx, service.WebhookRecoverArgs{EndpointID: endpointID, RecoveryID: recovery})
	})
	if err != nil {
		return 0, fmt.Errorf("recover webhook deliveries: %w", err)
	}
	return int(n), nil
}

// Recovering returns the next n deliveries a recovery claimed and has not sent (in event order, after the last
// one it sent), for the recovery worker, which sends each with a final attempt.
func (s *Service) Recovering(ctx context.Context, a service.WebhookRecoverArgs, n int) ([]service.RecoverItem, error) {
	rows, err := s.core.Queries.WebhookDeliveryRecovering(ctx, s.core.DB, db.WebhookDeliveryRecoveringParams{
		RecoveryID: &a.RecoveryID, AfterAt: a.AfterAt, AfterID: a.AfterID, RowLimit: int32(n),
	})
	if err != nil {
		return nil, fmt.Errorf("recovering webhook deliveries: %w", err)
	}
	out := make([]service.RecoverItem, len(rows))
	for i, r := range rows {
		out[i] = service.RecoverItem{DeliveryID: r.ID, EventAt: r.EventAt}
	}
	return out, nil
}

// Test sends a webhook.test event to an endpoint of the caller's, now, whatever types it takes.
func (s *Service) Test(ctx context.Context, endpointID uuid.UUID) (service.WebhookDelivery, error) {
	e, _, err := s.mine(ctx, endpointID)
	if err != nil {
		return service.WebhookDelivery{}, err
	}
	if !e.Enabled {
		return service.WebhookDelivery{}, errDisabled
	}
	body, err := s.core.EncodeWebhook(service.WebhookMessage{
		Type: service.WebhookTest, OwnerID: &e.OwnerID, Private: true, At: s.deps.Now(),
		Data: service.WebhookTestData{EndpointID: endpointID, Message: testMessage},
	})
	if err != nil {
		return service.WebhookDelivery{}, fmt.Errorf("test webhook endpoint: %w", err)
	}
	var row db.WebhookDelivery
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		m, err := s.core.Queries.WebhookMessageInsertFor(ctx, tx, db.WebhookMessageInsertForParams{
			Type: string(service.WebhookTest), OwnerID: e.OwnerID, Payload: body,
		})
		if err != nil {
			return err
		}
		row, err = s.core.Queries.WebhookDeliveryCreate(ctx, tx, db.WebhookDeliveryCreateParams{
			MessageID: m.ID, EndpointID: endpointID, EventType: string(service.WebhookTest), EventAt: m.CreatedAt,
		})
		if err != nil {
			return err
		}
		return s.core.Enqueue(ctx, tx, service.WebhookDeliveryArgs{DeliveryID: row.ID})
	})
	if err != nil {
		return service.WebhookDelivery{}, fmt.Errorf("test webhook endpoint: %w", err)
	}
	return toDelivery(row, nil), nil
}

// Prune deletes the events older than [service.WebhookRetention], with their deliveries, a batch at a time, and
// returns how many. For the periodic prune job.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	before := s.deps.Now().Add(-service.WebhookRetention)
	n, err := core.Prune(ctx, 5000, func(ctx context.Context, limit int32) (int64, error) {
		return s.core.Queries.WebhookMessagesPrune(ctx, s.core.DB, db.WebhookMessagesPruneParams{Before: before, RowLimit: limit})
	})
	if err != nil {
		return n, fmt.Errorf("prune webhook messages: %w", err)
	}
	return n, nil
}

func (s *Service) withAttempts(ctx context.Context, q db.DBTX, rows []db.WebhookDelivery) ([]service.WebhookDelivery, error) {
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	attempts, err := s.core.Queries.WebhookAttemptsLatest(ctx, q, db.WebhookAttemptsLatestParams{
		DeliveryIds: ids, MaxPer: service.WebhookAttemptsShown,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook delivery attempts: %w", err)
	}
	byDelivery := make(map[uuid.UUID][]service.WebhookDeliveryAttempt, len(rows))
	for _, a := range attempts {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], toAttempt(a))
	}
	out := make([]service.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = toDelivery(r, byDelivery[r.ID])
	}
	return out, nil
}

func toDelivery(r db.WebhookDelivery, attempts []service.WebhookDeliveryAttempt) service.WebhookDelivery {
	if attempts == nil {
		attempts = []service.WebhookDeliveryAttempt{}
	}
	return service.WebhookDelivery{
		ID: r.ID, EndpointID: r.EndpointID, EventID: r.MessageID, EventType: service.WebhookEventType(r.EventType),
		Status: service.WebhookDeliveryStatus(r.Status), AttemptCount: int(r.Attempts), NextAttemptAt: r.NextAttemptAt,
		CreatedAt: r.CreatedAt, Attempts: attempts,
	}
}

func toAttempt(a db.WebhookDeliveryAttempt) service.WebhookDeliveryAttempt {
	out := service.WebhookDeliveryAttempt{
		Attempt: int(a.Attempt), AttemptedAt: a.AttemptedAt, Duration: time.Duration(a.DurationMs) * time.Millisecond,
		Response: a.Response, NextAttemptAt: a.NextAttemptAt,
	}
	if a.StatusCode != nil {
		out.StatusCode = int(*a.StatusCode)
	}
	if a.Error != nil {
		out.Error = *a.Error
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
