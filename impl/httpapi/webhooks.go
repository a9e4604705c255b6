package httpapi

import (
	"context"
	"net/url"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/service"
)

// ReceiveStripeWebhook serves POST /api/webhooks/stripe. The gate has verified the signature over the raw body.
func (s *Server) ReceiveStripeWebhook(ctx context.Context, req api.ReceiveStripeWebhookRequestObject) (api.ReceiveStripeWebhookResponseObject, error) {
	if err := s.svc.Billing.ReceiveStripe(ctx, *req.Body); err != nil {
		return nil, err
	}
	return api.ReceiveStripeWebhook200JSONResponse{Received: true}, nil
}

// ListWebhookEvents serves GET /api/admin/webhook-events.
func (s *Server) ListWebhookEvents(ctx context.Context, req api.ListWebhookEventsRequestObject) (api.ListWebhookEventsResponseObject, error) {
	p := service.ListWebhookEventsParams{Status: service.WebhookStatus(orString(req.Params.Status, "")), Type: deref(req.Params.Type)}
	p.Page, p.Limit = pageParams(req.Params.Page, req.Params.Limit)
	page, err := s.svc.Billing.List(ctx, p)
	if err != nil {
		return nil, err
	}
	other := url.Values{}
	if p.Status != "" {
		other.Set("status", string(p.Status))
	}
	if p.Type != "" {
		other.Set("type", p.Type)
	}
	pagination, links := paginate(listQuery{path: "/api/admin/webhook-events", page: p.Page, limit: p.Limit, other: other}, page.Total)
	data := make([]api.WebhookEvent, len(page.Events))
	for i, e := range page.Events {
		data[i] = toAPIWebhookEvent(e)
	}
	return api.ListWebhookEvents200JSONResponse{Body: api.WebhookEventList{Data: data, Pagination: pagination, Links: links}}, nil
}

// ReplayWebhookEvent serves POST /api/admin/webhook-events/{id}/replay.
func (s *Server) ReplayWebhookEvent(ctx context.Context, req api.ReplayWebhookEventRequestObject) (api.ReplayWebhookEventResponseObject, error) {
	e, err := s.svc.Billing.Replay(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.ReplayWebhookEvent202JSONResponse{Body: api.WebhookEventData{Data: toAPIWebhookEvent(e)}}, nil
}

func toAPIWebhookEvent(e service.WebhookEvent) api.WebhookEvent {
	return api.WebhookEvent{
		Id: e.ID, Provider: string(e.Provider), EventId: e.EventID, Type: e.Type, Status: api.WebhookEventStatus(e.Status),
		Attempts: e.Attempts, LastError: e.LastError, CreatedAt: e.CreatedAt, ReceivedAt: e.ReceivedAt,
		ProcessedAt: e.ProcessedAt, Payload: e.Payload,
	}
}
