package httpapi

import (
	"context"

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
