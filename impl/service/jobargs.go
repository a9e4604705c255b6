package service

// The job args of every background job, in one place: the services insert them in the transaction of the write
// that causes them, and impl/jobs works them. A job's Kind never changes once released, since jobs already queued
// are found by it.

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// EmailQueue is the River queue that email jobs run on.
const EmailQueue = "email"

// EmailKind says which email a job sends: it names the template (impl/mail/templates).
type EmailKind string

// The email kinds, one template each (impl/mail/templates); the worker cancels a job whose kind has none.
const (
	EmailWelcome       EmailKind = "welcome"
	EmailPasswordReset EmailKind = "password-reset"
	EmailNotification  EmailKind = "notification"
	EmailReceipt       EmailKind = "receipt"
	// EmailEmailChanged goes to the old address of an account whose email changed.
	EmailEmailChanged EmailKind = "email-changed"
	// EmailPasswordChanged goes to the address of an account whose password changed while signed in.
	EmailPasswordChanged EmailKind = "password-changed"
	// EmailWebhookDisabled tells an endpoint's owner that Junction disabled it (410 Gone, or 5 days of failures).
	EmailWebhookDisabled EmailKind = "webhook-disabled"
)

// EmailMaxAttempts is how often an email job runs before it is discarded.
const EmailMaxAttempts = 3

// EmailArgs is the job that sends one email. Its fields are what the templates need, so that the worker renders
// and sends without reading the database.
type EmailArgs struct {
	Type EmailKind `json:"type"`
	To   string    `json:"to"`
	Name string    `json:"name"`

	// SealedToken is the password-reset token, encrypted (auth.Sealer): the job's args sit in the database, and
	// reading them must not be enough to reset a password. The token table keeps only a hash.
	SealedToken string `json:"sealed_token,omitempty"`
	ExpiresIn   string `json:"expires_in,omitempty"`

	// PostID, PostTitle, ActorName and Excerpt describe a new comment, for a notification.
	PostID    string `json:"post_id,omitempty"`
	PostTitle string `json:"post_title,omitempty"`
	ActorName string `json:"actor_name,omitempty"`
	Excerpt   string `json:"excerpt,omitempty"`

	// PaymentID and Amount describe a successful payment, for a receipt.
	PaymentID string `json:"payment_id,omitempty"`
	Amount    string `json:"amount,omitempty"`

	// NewEmail is the address an account moved to, for the notice to its old one.
	NewEmail string `json:"new_email,omitempty"`

	// EndpointID, EndpointURL and DisabledReason describe a webhook endpoint Junction disabled.
	EndpointID     string `json:"endpoint_id,omitempty"`
	EndpointURL    string `json:"endpoint_url,omitempty"`
	DisabledReason string `json:"disabled_reason,omitempty"`
}

// Kind never changes: jobs already queued are found by it.
func (EmailArgs) Kind() string { return "email" }

// InsertOpts puts email jobs on their own queue, with their own attempt budget.
func (EmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: EmailQueue, MaxAttempts: EmailMaxAttempts}
}

// PasswordResetArgs is the job that a reset request queues whatever the email: it looks the account up and, if
// there is one, issues a token and queues the email that carries it. The request itself does nothing else, so it
// answers in the same time for known and unknown emails.
type PasswordResetArgs struct {
	Email string `json:"email"`
}

// Kind never changes: jobs already queued are found by it.
func (PasswordResetArgs) Kind() string { return "password_reset" }

// InsertOpts puts the job beside the email it leads to, with the same attempt budget.
func (PasswordResetArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: EmailQueue, MaxAttempts: EmailMaxAttempts}
}

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

// JobInserter inserts jobs in the caller's transaction; River's client (and impl/jobs.Client) is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// WebhookQueue is the River queue of outgoing webhooks: their fan-outs, deliveries and recoveries.
const WebhookQueue = "webhooks"

// WebhookOutMaxAttempts bounds the runs of an outgoing webhook's job when the database, not the receiver, fails:
// a receiver's failures follow the delivery's own schedule (retry.Schedule), one job per attempt.
const WebhookOutMaxAttempts = 25

// WebhookFanOutArgs is the job that makes a message's deliveries, one per endpoint that takes it: the write that
// caused the event does the same small work however many endpoints there are.
type WebhookFanOutArgs struct {
	MessageID uuid.UUID `json:"message_id"`
}

// Kind never changes: jobs already queued are found by it.
func (WebhookFanOutArgs) Kind() string { return "webhook_fanout" }

// InsertOpts puts the job on the webhook queue.
func (WebhookFanOutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhookQueue, MaxAttempts: WebhookOutMaxAttempts}
}

// WebhookDeliveryArgs is the job that makes one attempt of a delivery. A failed attempt with attempts left on the
// schedule queues the next one, scheduled, in the transaction that records it.
type WebhookDeliveryArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
	// Final makes the attempt the last whatever the schedule says: a manual re-send is one attempt.
	Final bool `json:"final,omitempty"`
}

// Kind never changes: jobs already queued are found by it.
func (WebhookDeliveryArgs) Kind() string { return "webhook_delivery" }

// InsertOpts puts the job on the webhook queue.
func (WebhookDeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhookQueue, MaxAttempts: WebhookOutMaxAttempts}
}

// WebhookRecoverArgs is the job that re-sends the failed deliveries a recovery claimed (RecoveryID), one at a time
// in event order, a batch per run; each run queues the next after the last delivery it sent (AfterAt, AfterID).
type WebhookRecoverArgs struct {
	EndpointID uuid.UUID `json:"endpoint_id"`
	RecoveryID uuid.UUID `json:"recovery_id"`
	AfterAt    time.Time `json:"after_at"`
	AfterID    uuid.UUID `json:"after_id"`
}

// Kind never changes: jobs already queued are found by it.
func (WebhookRecoverArgs) Kind() string { return "webhook_recover" }

// InsertOpts puts the job on the webhook queue.
func (WebhookRecoverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhookQueue, MaxAttempts: WebhookOutMaxAttempts}
}

// WebhookPruneArgs is the periodic job that deletes events older than [WebhookRetention] with their deliveries.
type WebhookPruneArgs struct{}

// Kind never changes: jobs already queued are found by it.
func (WebhookPruneArgs) Kind() string { return "webhook_prune" }

// IdempotencyPruneArgs is the periodic job that deletes the stored answers of keyed requests past
// IDEMPOTENCY_KEY_TTL.
type IdempotencyPruneArgs struct{}

// Kind never changes: jobs already queued are found by it.
func (IdempotencyPruneArgs) Kind() string { return "idempotency_prune" }
