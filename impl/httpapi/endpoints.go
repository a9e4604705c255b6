package httpapi

import (
	"context"
	"net/url"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/service"
)

const endpointsPath = "/api/webhook-endpoints"

// ListWebhookEndpoints serves GET /api/webhook-endpoints.
func (s *Server) ListWebhookEndpoints(ctx context.Context, req api.ListWebhookEndpointsRequestObject) (api.ListWebhookEndpointsResponseObject, error) {
	page, limit := pageParams(req.Params.Page, req.Params.Limit)
	res, err := s.svc.Endpoints.List(ctx, page, limit)
	if err != nil {
		return nil, err
	}
	data := make([]api.WebhookEndpoint, len(res.Endpoints))
	for i, e := range res.Endpoints {
		data[i] = toAPIEndpoint(e)
	}
	pagination, links := paginate(listQuery{path: endpointsPath, page: page, limit: limit}, res.Total)
	return api.ListWebhookEndpoints200JSONResponse{Body: api.WebhookEndpointList{Data: data, Pagination: pagination, Links: links}}, nil
}

// CreateWebhookEndpoint serves POST /api/webhook-endpoints.
func (s *Server) CreateWebhookEndpoint(ctx context.Context, req api.CreateWebhookEndpointRequestObject) (api.CreateWebhookEndpointResponseObject, error) {
	e, err := s.svc.Endpoints.Create(ctx, service.CreateWebhookEndpointInput{
		URL: req.Body.Url, Description: deref(req.Body.Description), EventTypes: fromAPIEventTypes(req.Body.EventTypes),
		Enabled: req.Body.Enabled,
	})
	if err != nil {
		return nil, err
	}
	return api.CreateWebhookEndpoint201JSONResponse{
		Body:    api.WebhookEndpointSecretData{Data: toAPIEndpointWithSecret(e)},
		Headers: api.CreateWebhookEndpoint201ResponseHeaders{Location: endpointPath(e.Endpoint.ID), CacheControl: noStore},
	}, nil
}

// GetWebhookEndpoint serves GET /api/webhook-endpoints/{id}.
func (s *Server) GetWebhookEndpoint(ctx context.Context, req api.GetWebhookEndpointRequestObject) (api.GetWebhookEndpointResponseObject, error) {
	e, err := s.svc.Endpoints.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetWebhookEndpoint200JSONResponse{Body: api.WebhookEndpointData{Data: toAPIEndpoint(e)}}, nil
}

// PatchWebhookEndpoint serves PATCH /api/webhook-endpoints/{id}.
func (s *Server) PatchWebhookEndpoint(ctx context.Context, req api.PatchWebhookEndpointRequestObject) (api.PatchWebhookEndpointResponseObject, error) {
	in := service.UpdateWebhookEndpointInput{URL: req.Body.Url, Description: req.Body.Description, Enabled: req.Body.Enabled}
	if req.Body.EventTypes != nil {
		in.EventTypes = fromAPIEventTypes(*req.Body.EventTypes)
	}
	e, err := s.svc.Endpoints.Update(ctx, req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.PatchWebhookEndpoint200JSONResponse{Body: api.WebhookEndpointData{Data: toAPIEndpoint(e)}}, nil
}

// DeleteWebhookEndpoint serves DELETE /api/webhook-endpoints/{id}.
func (s *Server) DeleteWebhookEndpoint(ctx context.Context, req api.DeleteWebhookEndpointRequestObject) (api.DeleteWebhookEndpointResponseObject, error) {
	if err := s.svc.Endpoints.Delete(ctx, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteWebhookEndpoint204Response{}, nil
}

// RotateWebhookEndpointSecret serves POST /api/webhook-endpoints/{id}/rotate-secret.
func (s *Server) RotateWebhookEndpointSecret(ctx context.Context, req api.RotateWebhookEndpointSecretRequestObject) (api.RotateWebhookEndpointSecretResponseObject, error) {
	e, err := s.svc.Endpoints.RotateSecret(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookEndpointSecret200JSONResponse{
		Body:    api.WebhookEndpointSecretData{Data: toAPIEndpointWithSecret(e)},
		Headers: api.RotateWebhookEndpointSecret200ResponseHeaders{CacheControl: noStore},
	}, nil
}

func endpointPath(id uuid.UUID) string { return endpointsPath + "/" + id.String() }

func fromAPIEventTypes(in api.WebhookEventTypes) []service.WebhookEventType {
	out := make([]service.WebhookEventType, len(in))
	for i, t := range in {
		out[i] = service.WebhookEventType(t)
	}
	return out
}

func toAPIEventTypes(in []service.WebhookEventType) api.WebhookEventTypes {
	out := make(api.WebhookEventTypes, len(in))
	for i, t := range in {
		out[i] = api.WebhookEventType(t)
	}
	return out
}

func toAPIEndpoint(e service.WebhookEndpoint) api.WebhookEndpoint {
	out := api.WebhookEndpoint{
		Id: e.ID, OwnerId: e.OwnerID, Url: e.URL, Description: e.Description, EventTypes: toAPIEventTypes(e.EventTypes),
		Enabled: e.Enabled, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
	if e.DisabledReason != nil {
		out.DisabledReason = new(api.WebhookEndpointDisabledReason(*e.DisabledReason))
	}
	return out
}

func toAPIEndpointWithSecret(e service.NewWebhookSecret) api.WebhookEndpointWithSecret {
	ep := toAPIEndpoint(e.Endpoint)
	out := api.WebhookEndpointWithSecret{
		Id: ep.Id, OwnerId: ep.OwnerId, Url: ep.Url, Description: ep.Description, EventTypes: ep.EventTypes,
		Enabled: ep.Enabled, CreatedAt: ep.CreatedAt, UpdatedAt: ep.UpdatedAt, Secret: e.Secret,
	}
	if ep.DisabledReason != nil {
		out.DisabledReason = new(api.WebhookEndpointWithSecretDisabledReason(*ep.DisabledReason))
	}
	return out
}

// TestWebhookEndpoint serves POST /api/webhook-endpoints/{id}/test.
func (s *Server) TestWebhookEndpoint(ctx context.Context, req api.TestWebhookEndpointRequestObject) (api.TestWebhookEndpointResponseObject, error) {
	d, err := s.svc.Endpoints.Test(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.TestWebhookEndpoint202JSONResponse{Body: api.WebhookDeliveryData{Data: toAPIDelivery(d)}}, nil
}

// ListWebhookDeliveries serves GET /api/webhook-endpoints/{id}/deliveries.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	page, limit := pageParams(req.Params.Page, req.Params.Limit)
	p := service.ListWebhookDeliveriesParams{
		Page: page, Limit: limit,
		Status:    service.WebhookDeliveryStatus(orString(req.Params.Status, "")),
		EventType: service.WebhookEventType(orString(req.Params.EventType, "")),
	}
	res, err := s.svc.Endpoints.ListDeliveries(ctx, req.Id, p)
	if err != nil {
		return nil, err
	}
	data := make([]api.WebhookDelivery, len(res.Deliveries))
	for i, d := range res.Deliveries {
		data[i] = toAPIDelivery(d)
	}
	q := listQuery{path: endpointPath(req.Id) + "/deliveries", page: page, limit: limit, other: url.Values{}}
	if p.Status != "" {
		q.other.Set("status", string(p.Status))
	}
	if p.EventType != "" {
		q.other.Set("eventType", string(p.EventType))
	}
	pagination, links := paginate(q, res.Total)
	return api.ListWebhookDeliveries200JSONResponse{Body: api.WebhookDeliveryList{Data: data, Pagination: pagination, Links: links}}, nil
}

// RetryWebhookDelivery serves POST /api/webhook-endpoints/{id}/deliveries/{deliveryId}/retry.
func (s *Server) RetryWebhookDelivery(ctx context.Context, req api.RetryWebhookDeliveryRequestObject) (api.RetryWebhookDeliveryResponseObject, error) {
	d, err := s.svc.Endpoints.Retry(ctx, req.Id, req.DeliveryId)
	if err != nil {
		return nil, err
	}
	return api.RetryWebhookDelivery202JSONResponse{Body: api.WebhookDeliveryData{Data: toAPIDelivery(d)}}, nil
}

// RecoverWebhookDeliveries serves POST /api/webhook-endpoints/{id}/recover.
func (s *Server) RecoverWebhookDeliveries(ctx context.Context, req api.RecoverWebhookDeliveriesRequestObject) (api.RecoverWebhookDeliveriesResponseObject, error) {
	n, err := s.svc.Endpoints.Recover(ctx, req.Id, req.Body.Since)
	if err != nil {
		return nil, err
	}
	body := api.WebhookRecoveryData{}
	body.Data.Queued = int32(n)
	return api.RecoverWebhookDeliveries202JSONResponse{Body: body}, nil
}

func toAPIDelivery(d service.WebhookDelivery) api.WebhookDelivery {
	attempts := make([]api.WebhookDeliveryAttempt, len(d.Attempts))
	for i, a := range d.Attempts {
		attempts[i] = api.WebhookDeliveryAttempt{
			Attempt: int32(a.Attempt), AttemptedAt: a.AttemptedAt, DurationMs: int32(a.Duration.Milliseconds()),
			Response: a.Response, NextAttemptAt: a.NextAttemptAt,
		}
		if a.StatusCode != 0 {
			attempts[i].StatusCode = new(int32(a.StatusCode))
		}
		if a.Error != "" {
			attempts[i].Error = new(a.Error)
		}
	}
	return api.WebhookDelivery{
		Id: d.ID, EndpointId: d.EndpointID, EventId: d.EventID, EventType: api.WebhookEventType(d.EventType),
		Status: api.WebhookDeliveryStatus(d.Status), AttemptCount: int32(d.AttemptCount), NextAttemptAt: d.NextAttemptAt,
		CreatedAt: d.CreatedAt, Attempts: attempts,
	}
}
