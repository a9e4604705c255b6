// Package billing is what Stripe tells Junction: verified events stored once each (batched as they arrive), then
// applied to payments and subscriptions by a job, with receipts; and the admin's view and replay of them.
package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// Service stores and applies webhook events. It is safe for concurrent use; Start and Stop bound its intake.
type Service struct {
	core *core.Core
	// intake stores webhook deliveries, batching those that arrive together.
	intake *intake
}

// New returns a Service over c. Its intake takes deliveries between Start and Stop.
func New(c *core.Core) *Service {
	s := &Service{core: c}
	s.intake = newIntake(s.storeDeliveries)
	return s
}

// Start opens the intake.
func (s *Service) Start(ctx context.Context) error { return s.intake.start() }

// Stop refuses new deliveries (EUNAVAILABLE: the sender retries) and waits, until ctx ends, for those already
// taken to be stored and answered.
func (s *Service) Stop(ctx context.Context) error { return s.intake.stop(ctx) }

// stripeEvent is the part of a Stripe event the service reads.
type stripeEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// ReceiveStripe stores a verified Stripe event and queues its processing in one transaction, which it may
// share with deliveries that arrive at the same time (see intake). A second delivery of the same event id stores
// nothing and queues nothing; it is not an error.
func (s *Service) ReceiveStripe(ctx context.Context, payload []byte) error {
	var ev stripeEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return &service.Error{Code: service.EINVALID, Message: "The event is not a Stripe event.", Fields: map[string][]string{"body": {"must be a Stripe event"}}}
	}
	return s.intake.submit(&delivery{ctx: ctx, ev: ev, payload: payload, done: make(chan error, 1)})
}

// Process applies a stored event: it upserts payments and subscriptions, never letting an older event
// overwrite a newer one, and queues a receipt for a successful payment, all in one transaction. Types it does not
// handle are marked ignored. A failure is recorded on the event and returned, for the job to retry.
func (s *Service) Process(ctx context.Context, id uuid.UUID) error {
	err := s.core.InTx(ctx, func(tx pgx.Tx) error {
		row, err := s.core.Queries.WebhookEventGetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		var ev stripeEvent
		if err := json.Unmarshal(row.Payload, &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		status := service.WebhookProcessed
		switch ev.Type {
		case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.failed":
			err = s.applyPaymentIntent(ctx, tx, ev, row.EventCreatedAt)
		case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
			err = s.applySubscription(ctx, tx, ev, row.EventCreatedAt)
		default:
			status = service.WebhookIgnored
			s.core.Logger.InfoContext(ctx, "webhook event type ignored", "event_id", ev.ID, "type", ev.Type)
		}
		if err != nil {
			return err
		}
		return s.core.Queries.WebhookEventFinish(ctx, tx, db.WebhookEventFinishParams{ID: id, Status: string(status)})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return core.NotFound("Webhook event") // deleted since: nothing to do, and retrying will not help
	}
	if err != nil {
		// The transaction rolled back: record the failure apart, so admins see it while the job retries.
		if ferr := s.core.Queries.WebhookEventFail(context.WithoutCancel(ctx), s.core.DB, db.WebhookEventFailParams{
			ID: id, LastError: new(truncate(err.Error(), 2000)),
		}); ferr != nil {
			s.core.Logger.ErrorContext(ctx, "record webhook failure", "event", id, "err", ferr)
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
	p, err := s.core.Queries.PaymentUpsert(ctx, tx, db.PaymentUpsertParams{
		StripeID: pi.ID, UserID: userID(user), Customer: pi.Customer, Amount: pi.Amount, Currency: pi.Currency,
		Status: status, EventCreatedAt: created, LastEventID: ev.ID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // an older event, or this one again: nothing changes and no second receipt goes out
	}
	if err != nil {
		return fmt.Errorf("upsert payment: %w", err)
	}
	if t, ok := paymentEvents[ev.Type]; ok {
		if err := s.core.Publish(ctx, tx, service.WebhookMessage{Type: t, OwnerID: p.UserID, At: created, Data: toPayment(p)}); err != nil {
			return err
		}
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
	return s.core.Enqueue(ctx, tx, service.EmailArgs{
		Type: service.EmailReceipt, To: to, Name: name, PaymentID: p.StripeID, Amount: formatAmount(p.Amount, p.Currency),
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
	row, err := s.core.Queries.SubscriptionUpsert(ctx, tx, db.SubscriptionUpsertParams{
		StripeID: sub.ID, UserID: userID(user), Customer: sub.Customer, Status: sub.Status, Price: price,
		CurrentPeriodEnd: end, EventCreatedAt: created, LastEventID: ev.ID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // an older event, or this one again
	}
	if err != nil {
		return fmt.Errorf("upsert subscription: %w", err)
	}
	return s.core.Publish(ctx, tx, service.WebhookMessage{
		Type: service.WebhookSubscriptionUpdated, OwnerID: row.UserID, At: created, Data: toSubscription(row),
	})
}

// paymentEvents are the outgoing webhooks that Stripe's payment intent events cause.
var paymentEvents = map[string]service.WebhookEventType{
	"payment_intent.succeeded":      service.WebhookPaymentSucceeded,
	"payment_intent.payment_failed": service.WebhookPaymentFailed,
	"payment_intent.failed":         service.WebhookPaymentFailed,
}

func toPayment(p db.Payment) service.Payment {
	return service.Payment{
		ID: p.StripeID, UserID: p.UserID, Customer: p.Customer, Amount: p.Amount, Currency: p.Currency, Status: p.Status,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func toSubscription(r db.Subscription) service.Subscription {
	return service.Subscription{
		ID: r.StripeID, UserID: r.UserID, Customer: r.Customer, Status: r.Status, Price: r.Price,
		CurrentPeriodEnd: r.CurrentPeriodEnd, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// linkedUser is the user named by metadata.user_id, or nil when there is none or it does not exist.
func (s *Service) linkedUser(ctx context.Context, tx pgx.Tx, metadata map[string]string) (*db.User, error) {
	id, err := uuid.Parse(metadata["user_id"])
	if err != nil {
		return nil, nil
	}
	u, err := s.core.Queries.UserGetByID(ctx, tx, id)
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

// List lists stored events, newest first. Admins only.
func (s *Service) List(ctx context.Context, p service.ListWebhookEventsParams) (service.WebhookEventPage, error) {
	if _, err := core.RequireAdmin(ctx); err != nil {
		return service.WebhookEventPage{}, err
	}
	fe := core.FieldErrors{}
	core.CheckPage(fe, &p.Page, &p.Limit)
	if err := fe.Err(); err != nil {
		return service.WebhookEventPage{}, err
	}
	status, typ := optional(string(p.Status)), optional(p.Type)
	rows, err := s.core.Queries.WebhookEventList(ctx, postgres.CustomPlans(s.core.DB), db.WebhookEventListParams{
		Status: status, Type: typ, RowLimit: int32(p.Limit), RowOffset: core.Offset(p.Page, p.Limit),
	})
	if err != nil {
		return service.WebhookEventPage{}, fmt.Errorf("list webhook events: %w", err)
	}
	total, err := s.core.Queries.WebhookEventCount(ctx, postgres.CustomPlans(s.core.DB), db.WebhookEventCountParams{Status: status, Type: typ})
	if err != nil {
		return service.WebhookEventPage{}, fmt.Errorf("count webhook events: %w", err)
	}
	events := make([]service.WebhookEvent, len(rows))
	for i, r := range rows {
		events[i] = toWebhookEvent(r)
	}
	return service.WebhookEventPage{Events: events, Total: total}, nil
}

// Replay queues an event's processing again. Admins only.
func (s *Service) Replay(ctx context.Context, id uuid.UUID) (service.WebhookEvent, error) {
	if _, err := core.RequireAdmin(ctx); err != nil {
		return service.WebhookEvent{}, err
	}
	var row db.WebhookEvent
	err := s.core.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if row, err = s.core.Queries.WebhookEventGetByID(ctx, tx, id); err != nil {
			return err
		}
		return s.core.Enqueue(ctx, tx, service.ProcessWebhookArgs{EventID: id})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return service.WebhookEvent{}, core.NotFound("Webhook event")
	}
	if err != nil {
		return service.WebhookEvent{}, fmt.Errorf("replay webhook event: %w", err)
	}
	return toWebhookEvent(row), nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toWebhookEvent(r db.WebhookEvent) service.WebhookEvent {
	return service.WebhookEvent{
		ID: r.ID, Provider: service.Provider(r.Provider), EventID: r.EventID, Type: r.Type, Payload: r.Payload, CreatedAt: r.EventCreatedAt,
		ReceivedAt: r.ReceivedAt, Status: service.WebhookStatus(r.Status), Attempts: int(r.Attempts), LastError: r.LastError, ProcessedAt: r.ProcessedAt,
	}
}
