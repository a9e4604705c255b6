package httpapi

import (
	"context"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/service"
)

// ListUsers serves GET /api/users.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	params := toServiceListUsersParams(req.Params)
	page, err := s.svc.ListUsers(ctx, params)
	if err != nil {
		return nil, err
	}
	return api.ListUsers200JSONResponse(toAPIUserList(page, params)), nil
}

// CreateUser serves POST /api/users.
func (s *Server) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	u, err := s.svc.CreateUser(ctx, service.CreateUserInput{
		Name:     req.Body.Name,
		Email:    string(req.Body.Email),
		Password: deref(req.Body.Password),
	})
	if err != nil {
		return nil, err
	}
	self := userPath(u.ID)
	return api.CreateUser201JSONResponse{
		Body:    api.UserCreated{Data: toAPIUser(u), Links: api.SelfLink{Self: self}},
		Headers: api.CreateUser201ResponseHeaders{Location: self},
	}, nil
}

// GetUser serves GET /api/users/{id}.
func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.svc.GetUser(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse{Data: toAPIUser(u), Links: userLinks(u.ID)}, nil
}

// ReplaceUser serves PUT /api/users/{id}.
func (s *Server) ReplaceUser(ctx context.Context, req api.ReplaceUserRequestObject) (api.ReplaceUserResponseObject, error) {
	email := string(req.Body.Email)
	u, err := s.svc.UpdateUser(ctx, req.Id, service.UpdateUserInput{Name: &req.Body.Name, Email: &email})
	if err != nil {
		return nil, err
	}
	return api.ReplaceUser200JSONResponse{Data: toAPIUser(u)}, nil
}

// PatchUser serves PATCH /api/users/{id}.
func (s *Server) PatchUser(ctx context.Context, req api.PatchUserRequestObject) (api.PatchUserResponseObject, error) {
	in := service.UpdateUserInput{Name: req.Body.Name}
	if req.Body.Email != nil {
		email := string(*req.Body.Email)
		in.Email = &email
	}
	u, err := s.svc.UpdateUser(ctx, req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.PatchUser200JSONResponse{Data: toAPIUser(u)}, nil
}

// DeleteUser serves DELETE /api/users/{id}.
func (s *Server) DeleteUser(ctx context.Context, req api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	if err := s.svc.DeleteUser(ctx, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteUser204Response{}, nil
}
