package httpapi

import (
	"context"
	"net/url"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/etag"
	"github.com/junction-dev/junction/impl/service"
)

// ListUsers serves GET /api/users: a page of users, or with ids a batch lookup.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	if req.Params.Ids != nil {
		users, err := s.svc.Users.ByIDs(ctx, *req.Params.Ids)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(*req.Params.Ids))
		for i, id := range *req.Params.Ids {
			ids[i] = id.String()
		}
		pagination, links := paginate(listQuery{
			path: usersPath, page: 1, limit: max(len(users), 1), lists: map[string][]string{"ids": ids},
		}, int64(len(users)))
		return api.ListUsers200JSONResponse{Body: api.UserList{Data: apimodel.Users(users), Pagination: pagination, Links: links}}, nil
	}
	p := service.ListUsersParams{
		Sort:   service.UserSort(orString(req.Params.Sort, string(service.UserSortCreatedAt))),
		Order:  service.SortOrder(orString(req.Params.Order, string(service.Desc))),
		Search: deref(req.Params.Search),
	}
	p.Page, p.Limit = pageParams(req.Params.Page, req.Params.Limit)
	page, err := s.svc.Users.List(ctx, p)
	if err != nil {
		return nil, err
	}
	other := url.Values{"sort": {string(p.Sort)}, "order": {string(p.Order)}}
	if p.Search != "" {
		other.Set("search", p.Search)
	}
	pagination, links := paginate(listQuery{path: usersPath, page: p.Page, limit: p.Limit, other: other}, page.Total)
	return api.ListUsers200JSONResponse{Body: api.UserList{Data: apimodel.Users(page.Users), Pagination: pagination, Links: links}}, nil
}

// CreateUser serves POST /api/users.
func (s *Server) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	u, err := s.svc.Users.Create(ctx, service.CreateUserInput{
		Name:     req.Body.Name,
		Email:    string(req.Body.Email),
		Password: deref(req.Body.Password),
	})
	if err != nil {
		return nil, err
	}
	self := userPath(u.ID)
	return api.CreateUser201JSONResponse{
		Body:    api.UserCreated{Data: apimodel.User(u), Links: api.SelfLink{Self: self}},
		Headers: api.CreateUser201ResponseHeaders{Location: self, ETag: etag.Of(u.Version)},
	}, nil
}

// GetUser serves GET /api/users/{id}, with include=posts embedding the user's posts.
func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	var u service.User
	var posts []service.Post
	var tag string
	var err error
	if req.Params.Include != nil && *req.Params.Include == api.Posts {
		u, posts, err = s.svc.Users.GetWithPosts(ctx, req.Id)
		if err != nil {
			return nil, err
		}
		members := make([]etag.Member, len(posts))
		for i, p := range posts {
			members[i] = etag.Member{ID: p.ID, Version: p.Version}
		}
		tag = etag.WithMembers(u.Version, members)
	} else {
		u, err = s.svc.Users.Get(ctx, req.Id)
		if err != nil {
			return nil, err
		}
		tag = etag.Of(u.Version)
	}
	if notModified(req.Params.IfNoneMatch, tag) {
		return api.GetUser304Response{Headers: api.NotModifiedResponseHeaders{ETag: tag}}, nil
	}
	data := toAPIUserWithPosts(u)
	if posts != nil {
		data.Posts = new(apimodel.Posts(posts))
	}
	return api.GetUser200JSONResponse{
		Body:    api.UserDetail{Data: data, Links: userLinks(req.Id)},
		Headers: api.GetUser200ResponseHeaders{ETag: tag},
	}, nil
}

func toAPIUserWithPosts(u service.User) api.UserWithPosts {
	return api.UserWithPosts{Id: u.ID, Name: u.Name, Email: api.Email(u.Email), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// ReplaceUser serves PUT /api/users/{id}.
func (s *Server) ReplaceUser(ctx context.Context, req api.ReplaceUserRequestObject) (api.ReplaceUserResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	email := string(req.Body.Email)
	u, err := s.svc.Users.Update(ctx, req.Id, service.UpdateUserInput{
		Name: &req.Body.Name, Email: &email, CurrentPassword: req.Body.CurrentPassword, Precondition: m, Replace: true,
	})
	if err != nil {
		return nil, err
	}
	return api.ReplaceUser200JSONResponse{
		Body:    api.UserData{Data: apimodel.User(u)},
		Headers: api.ReplaceUser200ResponseHeaders{ETag: etag.Of(u.Version)},
	}, nil
}

// PatchUser serves PATCH /api/users/{id}.
func (s *Server) PatchUser(ctx context.Context, req api.PatchUserRequestObject) (api.PatchUserResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	in := service.UpdateUserInput{Name: req.Body.Name, Password: req.Body.Password, CurrentPassword: req.Body.CurrentPassword, Precondition: m}
	if req.Body.Email != nil {
		in.Email = new(string(*req.Body.Email))
	}
	u, err := s.svc.Users.Update(ctx, req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.PatchUser200JSONResponse{
		Body:    api.UserData{Data: apimodel.User(u)},
		Headers: api.PatchUser200ResponseHeaders{ETag: etag.Of(u.Version)},
	}, nil
}

// DeleteUser serves DELETE /api/users/{id}.
func (s *Server) DeleteUser(ctx context.Context, req api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Users.Delete(ctx, req.Id, m); err != nil {
		return nil, err
	}
	return api.DeleteUser204Response{}, nil
}

// CreateToken serves POST /api/auth/token.
func (s *Server) CreateToken(ctx context.Context, req api.CreateTokenRequestObject) (api.CreateTokenResponseObject, error) {
	tok, err := s.svc.Accounts.Login(ctx, req.Body.Email, deref(req.Body.Password))
	if err != nil {
		return nil, err
	}
	return api.CreateToken200JSONResponse{Body: api.Token{
		AccessToken: tok.AccessToken, TokenType: api.Bearer, ExpiresIn: int(tok.ExpiresIn.Seconds()),
	}, Headers: api.CreateToken200ResponseHeaders{CacheControl: noStore}}, nil
}

// RequestPasswordReset serves POST /api/auth/password-reset. It answers 202 whether or not the account exists.
func (s *Server) RequestPasswordReset(ctx context.Context, req api.RequestPasswordResetRequestObject) (api.RequestPasswordResetResponseObject, error) {
	if err := s.svc.Accounts.RequestPasswordReset(ctx, req.Body.Email); err != nil {
		return nil, err
	}
	return api.RequestPasswordReset202JSONResponse{Body: api.Accepted{Status: api.AcceptedStatusAccepted}}, nil
}

// ConfirmPasswordReset serves POST /api/auth/password-reset/confirm.
func (s *Server) ConfirmPasswordReset(ctx context.Context, req api.ConfirmPasswordResetRequestObject) (api.ConfirmPasswordResetResponseObject, error) {
	if err := s.svc.Accounts.ConfirmPasswordReset(ctx, req.Body.Token, deref(req.Body.NewPassword)); err != nil {
		return nil, err
	}
	return api.ConfirmPasswordReset204Response{}, nil
}
