package service

import (
	"time"

	"github.com/google/uuid"
)

// WebhookMessage is an event a write causes, for the outbox (issue 16): recorded in the write's transaction, it
// reaches every endpoint that takes its type and may hear of it.
type WebhookMessage struct {
	Type WebhookEventType
	// OwnerID is whose the resource is: a post's author (for a comment, its post's), the user, the payer. Their
	// endpoints hear of it; nil for nobody's, which only admins' endpoints hear of.
	OwnerID *uuid.UUID
	// Private keeps the event from admins' endpoints: it concerns a draft, which nobody but its author may see.
	Private bool
	// At is when it happened: the payload's timestamp.
	At time.Time
	// Data is the resource (a Post, Comment, User, Payment, Subscription or WebhookTestData), which the payload
	// carries as the REST API returns it.
	Data any
}

// WebhookEncoder renders the body of an outgoing webhook: {"type", "timestamp", "data"}, data as the REST API
// returns the resource (impl/apimodel). The services record what it returns, and every attempt sends it as is.
type WebhookEncoder func(m WebhookMessage) ([]byte, error)

// Payment is a payment as Stripe last told of it.
type Payment struct {
	ID        string
	UserID    *uuid.UUID
	Customer  *string
	Amount    int64
	Currency  string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Subscription is a subscription as Stripe last told of it.
type Subscription struct {
	ID               string
	UserID           *uuid.UUID
	Customer         *string
	Status           string
	Price            *string
	CurrentPeriodEnd *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// WebhookTestData is the data of a webhook.test event.
type WebhookTestData struct {
	EndpointID uuid.UUID
	Message    string
}

// WebhookDeliveryStatus is where a delivery stands.
type WebhookDeliveryStatus string

// The states of a delivery.
const (
	DeliveryPending   WebhookDeliveryStatus = "pending"
	DeliverySucceeded WebhookDeliveryStatus = "succeeded"
	DeliveryFailed    WebhookDeliveryStatus = "failed"
)

// The bounds of a delivery's record, as in openapi.yaml.
const (
	// WebhookResponseKeep is how much of a receiver's answer is read and kept.
	WebhookResponseKeep = 1024
	// WebhookAttemptsShown is how many of a delivery's latest attempts the log shows.
	WebhookAttemptsShown = 20
	// WebhookRetention is how long events and their deliveries are kept, and so how far back a recovery reaches.
	WebhookRetention = 30 * 24 * time.Hour
	// WebhookFanOutInline is how many of a message's deliveries its fan-out attempts itself; the rest get a job
	// each. Most messages reach a few endpoints (an owner's 10 at most, and the admins'), and sending those from
	// the fan-out saves a job per delivery; a message that reaches many is spread over the workers.
	WebhookFanOutInline = 50
	// WebhookFailingDisables is how long an endpoint's deliveries may all fail before Junction disables it.
	WebhookFailingDisables = 5 * 24 * time.Hour
)

// The reasons Junction disables an endpoint for.
const (
	DisabledGone    = "gone"
	DisabledFailing = "failing"
)

// WebhookDelivery is one event's delivery to one endpoint, with its latest attempts.
type WebhookDelivery struct {
	ID            uuid.UUID
	EndpointID    uuid.UUID
	EventID       uuid.UUID
	EventType     WebhookEventType
	Status        WebhookDeliveryStatus
	AttemptCount  int
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	Attempts      []WebhookDeliveryAttempt
}

// WebhookDeliveryAttempt is one POST of a delivery and what came of it.
type WebhookDeliveryAttempt struct {
	Attempt     int
	AttemptedAt time.Time
	// StatusCode is the receiver's answer; 0 when none came (Error says why).
	StatusCode    int
	Error         string
	Duration      time.Duration
	Response      string
	NextAttemptAt *time.Time
}

// ListWebhookDeliveriesParams filters an endpoint's delivery log; empty filters do not filter.
type ListWebhookDeliveriesParams struct {
	Page      int
	Limit     int
	Status    WebhookDeliveryStatus
	EventType WebhookEventType
}

// WebhookDeliveryPage is a page of deliveries and the number on all pages.
type WebhookDeliveryPage struct {
	Deliveries []WebhookDelivery
	Total      int64
}

// DeliveryTarget is what one attempt of a delivery needs, for the delivery worker. Keys sign it (newest first).
type DeliveryTarget struct {
	DeliveryID uuid.UUID
	EndpointID uuid.UUID
	MessageID  uuid.UUID
	URL        string
	Body       []byte
	Keys       [][]byte
	// Attempt is the number of the attempt about to be made.
	Attempt int
	// Deliver is false when nothing is to be sent: the delivery is no longer pending, or its endpoint is
	// disabled, in which case Skipped says so (the delivery has been recorded as not sent).
	Deliver bool
	Skipped bool
	// New says that the delivery is made only when this, its first attempt, is recorded (a fan-out's): until
	// then no row has DeliveryID.
	New bool
}

// AttemptResult is what one attempt came to, for the record.
type AttemptResult struct {
	DeliveryID uuid.UUID
	EndpointID uuid.UUID
	MessageID  uuid.UUID
	// New is the target's: the record makes the delivery.
	New         bool
	Attempt     int
	AttemptedAt time.Time
	// StatusCode is 0 when no answer came; Err then says why.
	StatusCode int
	Err        string
	Duration   time.Duration
	Response   []byte
	// RetryAfter is what a 429 or 503 asked for; zero for nothing.
	RetryAfter time.Duration
	// Final makes this attempt the last whatever the schedule says (a manual re-send).
	Final bool
	// EndpointDisabled says that nothing was sent, as the endpoint is disabled: the delivery fails, and the
	// endpoint's failing streak is not the receiver's doing.
	EndpointDisabled bool
}

// Succeeded reports whether the receiver took the delivery: any 2xx. A 3xx is a failure, as redirects are not
// followed.
func (r AttemptResult) Succeeded() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// RecoverItem is a failed delivery a recovery re-sends, with its event's time (the recovery's place).
type RecoverItem struct {
	DeliveryID uuid.UUID
	EventAt    time.Time
}
