package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
)

// ProviderStripe names Stripe's events in webhook_events.
const ProviderStripe = "stripe"

// The statuses of a stored webhook event.
const (
	WebhookReceived  = "received"
	WebhookProcessed = "processed"
	WebhookIgnored   = "ignored"
	WebhookFailed    = "failed"
)

// WebhookMaxAttempts bounds the processing of one event; a failing event stays visible (status failed) and can
// be replayed by an admin.
const WebhookMaxAttempts = 10

// ProcessWebhookArgs is the job that applies one stored webhook event.
type ProcessWebhookArgs struct {
	EventID uuid.UUID `json:"event_id"`
}

// Kind never changes: jobs already queued are found by it.
func (ProcessWebhookArgs) Kind() string { return "webhook_event" }

// InsertOpts gives webhook processing a longer attempt budget than email.
func (ProcessWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WebhookMaxAttempts}
}

// WebhookEvent is a stored delivery.
type WebhookEvent struct {
	ID          uuid.UUID
	Provider    string
	EventID     string
	Type        string
	Payload     json.RawMessage
	CreatedAt   time.Time
	ReceivedAt  time.Time
	Status      string
	Attempts    int
	LastError   *string
	ProcessedAt *time.Time
}

// stripeEvent is the part of a Stripe event the service reads.
type stripeEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// ReceiveStripeEvent stores a verified Stripe event and queues its processing in one transaction, which it may
// share with deliveries that arrive at the same time (see intake). A second delivery of the same event id stores
// nothing and queues nothing; it is not an error.
func (s *Service) ReceiveStripeEvent(ctx context.Context, payload []byte) error {
	var ev stripeEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return &Error{Code: EINVALID, Message: "The event is not a Stripe event.", Fields: map[string][]string{"body": {"must be a Stripe event"}}}
	}
	return s.intake.submit(&delivery{ctx: ctx, ev: ev, payload: payload, done: make(chan error, 1)})
}

// ProcessWebhookEvent applies a stored event: it upserts payments and subscriptions, never letting an older event
// overwrite a newer one, and queues a receipt for a successful payment, all in one transaction. Types it does not
// handle are marked ignored. A failure is recorded on the event and returned, for the job to retry.
func (s *Service) ProcessWebhookEvent(ctx context.Context, id uuid.UUID) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		row, err := s.queries.WebhookEventGetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		var ev stripeEvent
		if err := json.Unmarshal(row.Payload, &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		status := WebhookProcessed
		switch ev.Type {
		case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.failed":
			err = s.applyPaymentIntent(ctx, tx, ev, row.EventCreatedAt)
		case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
			err = s.applySubscription(ctx, tx, ev, row.EventCreatedAt)
		default:
			status = WebhookIgnored
			s.logger.InfoContext(ctx, "webhook event type ignored", "event_id", ev.ID, "type", ev.Type)
		}
		if err != nil {
			return err
		}
		return s.queries.WebhookEventFinish(ctx, tx, db.WebhookEventFinishParams{ID: id, Status: status})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("Webhook event") // deleted since: nothing to do, and retrying will not help
	}
	if err != nil {
		// The transaction rolled back: record the failure apart, so admins see it while the job retries.
		if ferr := s.queries.WebhookEventFail(context.WithoutCancel(ctx), s.pool, db.WebhookEventFailParams{
			ID: id, LastError: new(truncate(err.Error(), 2000)),
		}); ferr != nil {
			s.logger.ErrorContext(ctx, "record webhook failure", "event", id, "err", ferr)
		}
		return fmt.Errorf("process webhook event %s: %w", id, err)
	}
	return nil
}

type paymentIntent struct {
	ID           string            `json:"id"`
	Amount       int64             `json:"amount"`
	Currency     string            `json:"currency"`
	Status       string            `json:"status"`
	Customer     *string           `json:"customer"`
	ReceiptEmail *string           `json:"receipt_email"`
	Metadata     map[string]string `json:"metadata"`
}

func (s *Service) applyPaymentIntent(ctx context.Context, tx pgx.Tx, ev stripeEvent, created time.Time) error {
	var pi paymentIntent
	if err := json.Unmarshal(ev.Data.Object, &pi); err != nil || pi.ID == "" || pi.Currency == "" {
		return fmt.Errorf("decode payment intent: not a payment intent")
	}
	status := pi.Status
	if status == "" {
		status = strings.TrimPrefix(ev.Type, "payment_intent.")
	}
	user, err := s.linkedUser(ctx, tx, pi.Metadata)
	if err != nil {
		return err
	}
	p, err := s.queries.PaymentUpsert(ctx, tx, db.PaymentUpsertParams{
		StripeID: pi.ID, UserID: userID(user), Customer: pi.Customer, Amount: pi.Amount, Currency: pi.Currency,
		Status: status, EventCreatedAt: created, LastEventID: ev.ID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // an older event, or this one again: nothing changes and no second receipt goes out
	}
	if err != nil {
		return fmt.Errorf("upsert payment: %w", err)
	}
	if ev.Type != "payment_intent.succeeded" {
		return nil
	}
	to, name := "", ""
	if user != nil {
		to, name = user.Email, user.Name
	} else if pi.ReceiptEmail != nil {
		to = *pi.ReceiptEmail
	}
	if to == "" {
		return nil
	}
	return s.enqueue(ctx, tx, EmailArgs{
		Type: EmailReceipt, To: to, Name: name, PaymentID: p.StripeID, Amount: formatAmount(p.Amount, p.Currency),
	})
}

type subscription struct {
	ID               string            `json:"id"`
	Customer         *string           `json:"customer"`
	Status           string            `json:"status"`
	CurrentPeriodEnd *int64            `json:"current_period_end"`
	Metadata         map[string]string `json:"metadata"`
	Plan             *struct {
		ID string `json:"id"`
	} `json:"plan"`
	Items struct {
		Data []struct {
			Price struct {
				ID string `json:"id"`
			} `json:"price"`
			CurrentPeriodEnd *int64 `json:"current_period_end"`
		} `json:"data"`
	} `json:"items"`
}

func (s *Service) applySubscription(ctx context.Context, tx pgx.Tx, ev stripeEvent, created time.Time) error {
	var sub subscription
	if err := json.Unmarshal(ev.Data.Object, &sub); err != nil || sub.ID == "" || sub.Status == "" {
		return fmt.Errorf("decode subscription: not a subscription")
	}
	var price *string
	periodEnd := sub.CurrentPeriodEnd
	if len(sub.Items.Data) > 0 {
		if id := sub.Items.Data[0].Price.ID; id != "" {
			price = &id
		}
		if periodEnd == nil {
			periodEnd = sub.Items.Data[0].CurrentPeriodEnd // newer API versions keep it on the item
		}
	}
	if price == nil && sub.Plan != nil && sub.Plan.ID != "" {
		price = &sub.Plan.ID
	}
	var end *time.Time
	if periodEnd != nil {
		end = new(time.Unix(*periodEnd, 0))
	}
	user, err := s.linkedUser(ctx, tx, sub.Metadata)
	if err != nil {
		return err
	}
	_, err = s.queries.SubscriptionUpsert(ctx, tx, db.SubscriptionUpsertParams{
		StripeID: sub.ID, UserID: userID(user), Customer: sub.Customer, Status: sub.Status, Price: price,
		CurrentPeriodEnd: end, EventCreatedAt: created, LastEventID: ev.ID,
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("upsert subscription: %w", err)
	}
	return nil
}

// linkedUser is the user named by metadata.user_id, or nil when there is none or it does not exist.
func (s *Service) linkedUser(ctx context.Context, tx pgx.Tx, metadata map[string]string) (*db.User, error) {
	id, err := uuid.Parse(metadata["user_id"])
	if err != nil {
		return nil, nil
	}
	u, err := s.queries.UserGetByID(ctx, tx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load linked user: %w", err)
	}
	return &u, nil
}

func userID(u *db.User) *uuid.UUID {
	if u == nil {
		return nil
	}
	return &u.ID
}

// formatAmount renders an amount in the currency's smallest unit, assuming two decimals (as most currencies).
func formatAmount(amount int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", amount/100, amount%100, strings.ToUpper(currency))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ListWebhookEventsParams filters the admin list of webhook events.
type ListWebhookEventsParams struct {
	Page   int
	Limit  int
	Status string
	Type   string
}

// WebhookEventPage is a page of events and the number on all pages.
type WebhookEventPage struct {
	Events []WebhookEvent
	Total  int64
}

// ListWebhookEvents lists stored events, newest first. Admins only.
func (s *Service) ListWebhookEvents(ctx context.Context, p ListWebhookEventsParams) (WebhookEventPage, error) {
	if err := requireAdmin(ctx); err != nil {
		return WebhookEventPage{}, err
	}
	fe := fieldErrors{}
	checkPage(fe, &p.Page, &p.Limit)
	if err := fe.err(); err != nil {
		return WebhookEventPage{}, err
	}
	status, typ := optional(p.Status), optional(p.Type)
	rows, err := s.queries.WebhookEventList(ctx, postgres.CustomPlans(s.pool), db.WebhookEventListParams{
		Status: status, Type: typ, RowLimit: int32(p.Limit), RowOffset: offset(p.Page, p.Limit),
	})
	if err != nil {
		return WebhookEventPage{}, fmt.Errorf("list webhook events: %w", err)
	}
	total, err := s.queries.WebhookEventCount(ctx, postgres.CustomPlans(s.pool), db.WebhookEventCountParams{Status: status, Type: typ})
	if err != nil {
		return WebhookEventPage{}, fmt.Errorf("count webhook events: %w", err)
	}
	events := make([]WebhookEvent, len(rows))
	for i, r := range rows {
		events[i] = toWebhookEvent(r)
	}
	return WebhookEventPage{Events: events, Total: total}, nil
}

// ReplayWebhookEvent queues an event's processing again. Admins only.
func (s *Service) ReplayWebhookEvent(ctx context.Context, id uuid.UUID) (WebhookEvent, error) {
	if err := requireAdmin(ctx); err != nil {
		return WebhookEvent{}, err
	}
	var row db.WebhookEvent
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if row, err = s.queries.WebhookEventGetByID(ctx, tx, id); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, ProcessWebhookArgs{EventID: id})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return WebhookEvent{}, notFound("Webhook event")
	}
	if err != nil {
		return WebhookEvent{}, fmt.Errorf("replay webhook event: %w", err)
	}
	return toWebhookEvent(row), nil
}

func requireAdmin(ctx context.Context) error {
	a, err := requireActor(ctx)
	if err != nil {
		return err
	}
	if !a.IsAdmin() {
		return forbidden("This needs an admin account.")
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toWebhookEvent(r db.WebhookEvent) WebhookEvent {
	return WebhookEvent{
		ID: r.ID, Provider: r.Provider, EventID: r.EventID, Type: r.Type, Payload: r.Payload, CreatedAt: r.EventCreatedAt,
		ReceivedAt: r.ReceivedAt, Status: r.Status, Attempts: int(r.Attempts), LastError: r.LastError, ProcessedAt: r.ProcessedAt,
	}
}
