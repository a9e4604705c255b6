package service

import (
	"time"

	"github.com/google/uuid"
)

// WebhookEventType names what an outgoing webhook tells (issue 16).
type WebhookEventType string

// The event types an endpoint can take.
const (
	WebhookPostPublished       WebhookEventType = "post.published"
	WebhookPostUpdated         WebhookEventType = "post.updated"
	WebhookPostDeleted         WebhookEventType = "post.deleted"
	WebhookCommentCreated      WebhookEventType = "comment.created"
	WebhookCommentDeleted      WebhookEventType = "comment.deleted"
	WebhookUserCreated         WebhookEventType = "user.created"
	WebhookUserDeleted         WebhookEventType = "user.deleted"
	WebhookPaymentSucceeded    WebhookEventType = "payment.succeeded"
	WebhookPaymentFailed       WebhookEventType = "payment.failed"
	WebhookSubscriptionUpdated WebhookEventType = "subscription.updated"
	WebhookTest                WebhookEventType = "webhook.test"
)

// WebhookEventTypes returns every event type, in the order the contract lists them.
func WebhookEventTypes() []WebhookEventType {
	return []WebhookEventType{
		WebhookPostPublished, WebhookPostUpdated, WebhookPostDeleted, WebhookCommentCreated, WebhookCommentDeleted,
		WebhookUserCreated, WebhookUserDeleted, WebhookPaymentSucceeded, WebhookPaymentFailed,
		WebhookSubscriptionUpdated, WebhookTest,
	}
}

// AdminOnly reports whether only an admin's endpoint may take t: accounts, payments and subscriptions are
// everyone's business but the admins' own. A user's endpoint hears of their posts and of comments on them.
func (t WebhookEventType) AdminOnly() bool {
	switch t {
	case WebhookUserCreated, WebhookUserDeleted, WebhookPaymentSucceeded, WebhookPaymentFailed, WebhookSubscriptionUpdated:
		return true
	}
	return false
}

// The limits on what a user controls of their endpoints, as in openapi.yaml.
const (
	WebhookEndpointsPerUser  = 10
	WebhookURLMaxLen         = 2048
	WebhookDescriptionMaxLen = 500
	// WebhookSecretOverlap is how long the secret a rotation replaced still signs deliveries, beside the new one.
	WebhookSecretOverlap = 24 * time.Hour
)

// WebhookEndpoint is where a user's outgoing webhooks go. Its secret is never part of it: only the answers to a
// create and a rotation carry it, once ([NewWebhookSecret]).
type WebhookEndpoint struct {
	ID          uuid.UUID
	OwnerID     uuid.UUID
	URL         string
	Description string
	EventTypes  []WebhookEventType
	Enabled     bool
	// DisabledReason says why Junction disabled it ("gone": it answered 410; "failing": 5 days of failures); nil
	// when it is enabled or its owner disabled it.
	DisabledReason *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// NewWebhookSecret is an endpoint with its signing secret, shown in the answer that made the secret only.
type NewWebhookSecret struct {
	Endpoint WebhookEndpoint
	Secret   string
}

// CreateWebhookEndpointInput is a new endpoint. Enabled nil means enabled.
type CreateWebhookEndpointInput struct {
	URL         string
	Description string
	EventTypes  []WebhookEventType
	Enabled     *bool
}

// UpdateWebhookEndpointInput changes the fields that are set (EventTypes: non-nil); at least one must be.
type UpdateWebhookEndpointInput struct {
	URL         *string
	Description *string
	EventTypes  []WebhookEventType
	Enabled     *bool
}

// WebhookEndpointPage is a page of the caller's endpoints and their number.
type WebhookEndpointPage struct {
	Endpoints []WebhookEndpoint
	Total     int64
}
