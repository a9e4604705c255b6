package service

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Provider names who sent a stored webhook event.
type Provider string

// ProviderStripe names Stripe's events.
const ProviderStripe Provider = "stripe"

// WebhookStatus is where a stored webhook event stands.
type WebhookStatus string

// The statuses of a stored webhook event.
const (
	WebhookReceived  WebhookStatus = "received"
	WebhookProcessed WebhookStatus = "processed"
	WebhookIgnored   WebhookStatus = "ignored"
	WebhookFailed    WebhookStatus = "failed"
)

// WebhookEvent is a stored delivery.
type WebhookEvent struct {
	ID          uuid.UUID
	Provider    Provider
	EventID     string
	Type        string
	Payload     json.RawMessage
	CreatedAt   time.Time
	ReceivedAt  time.Time
	Status      WebhookStatus
	Attempts    int
	LastError   *string
	ProcessedAt *time.Time
}

// ListWebhookEventsParams filters the admin list of webhook events; empty filters do not filter.
type ListWebhookEventsParams struct {
	Page   int
	Limit  int
	Status WebhookStatus
	Type   string
}

// WebhookEventPage is a page of events and the number on all pages.
type WebhookEventPage struct {
	Events []WebhookEvent
	Total  int64
}
