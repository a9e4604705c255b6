package httpapi

import (
	"context"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/etag"
	"github.com/junction-dev/junction/impl/service"
)

// postListParams are the query parameters the post lists share.
type postListParams struct {
	page, limit *int32
	sort, order string
	published   *bool
	authorID    *uuid.UUID
	search      *string
}

func (s *Server) listPosts(ctx context.Context, path string, userID *uuid.UUID, q postListParams) (api.PostList, error) {
	p := service.ListPostsParams{
		Sort: service.PostSort(q.sort), Order: service.SortOrder(q.order),
		Published: q.published, AuthorID: q.authorID, Search: deref(q.search),
	}
	p.Page, p.Limit = pageParams(q.page, q.limit)
	var page service.PostPage
	var err error
	if userID != nil {
		page, err = s.svc.Posts.ListByAuthor(ctx, *userID, p)
	} else {
		page, err = s.svc.Posts.List(ctx, p)
	}
	if err != nil {
		return api.PostList{}, err
	}
	other := url.Values{"sort": {q.sort}, "order": {q.order}}
	if q.published != nil {
		other.Set("published", strconv.FormatBool(*q.published))
	}
	if q.authorID != nil {
		other.Set("authorId", q.authorID.String())
	}
	if p.Search != "" {
		other.Set("search", p.Search)
	}
	pagination, links := paginate(listQuery{path: path, page: p.Page, limit: p.Limit, other: other}, page.Total)
	return api.PostList{Data: apimodel.Posts(page.Posts), Pagination: pagination, Links: links}, nil
}

// ListPosts serves GET /api/posts.
func (s *Server) ListPosts(ctx context.Context, req api.ListPostsRequestObject) (api.ListPostsResponseObject, error) {
	pr := req.Params
	list, err := s.listPosts(ctx, postsPath, nil, postListParams{
		page: pr.Page, limit: pr.Limit, sort: orString(pr.Sort, string(service.PostSortCreatedAt)), order: orString(pr.Order, string(service.Desc)),
		published: pr.Published, authorID: pr.AuthorId, search: pr.Search,
	})
	if err != nil {
		return nil, err
	}
	return api.ListPosts200JSONResponse{Body: list}, nil
}

// ListUserPosts serves GET /api/users/{id}/posts.
func (s *Server) ListUserPosts(ctx context.Context, req api.ListUserPostsRequestObject) (api.ListUserPostsResponseObject, error) {
	pr := req.Params
	list, err := s.listPosts(ctx, userPath(req.Id)+"/posts", &req.Id, postListParams{
		page: pr.Page, limit: pr.Limit, sort: orString(pr.Sort, string(service.PostSortCreatedAt)), order: orString(pr.Order, string(service.Desc)),
		published: pr.Published, search: pr.Search,
	})
	if err != nil {
		return nil, err
	}
	return api.ListUserPosts200JSONResponse{Body: list}, nil
}

// CreatePost serves POST /api/posts.
func (s *Server) CreatePost(ctx context.Context, req api.CreatePostRequestObject) (api.CreatePostResponseObject, error) {
	p, err := s.svc.Posts.Create(ctx, service.CreatePostInput{
		Title: req.Body.Title, Content: req.Body.Content, Published: deref(req.Body.Published),
	})
	if err != nil {
		return nil, err
	}
	return api.CreatePost201JSONResponse{
		Body:    api.PostDetail{Data: apimodel.Post(p), Links: postLinks(p)},
		Headers: api.CreatePost201ResponseHeaders{Location: postPath(p.ID), ETag: etag.Of(p.Version)},
	}, nil
}

// GetPost serves GET /api/posts/{id}.
func (s *Server) GetPost(ctx context.Context, req api.GetPostRequestObject) (api.GetPostResponseObject, error) {
	p, err := s.svc.Posts.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	tag := etag.Of(p.Version)
	if notModified(req.Params.IfNoneMatch, tag) {
		return api.GetPost304Response{Headers: api.NotModifiedResponseHeaders{ETag: tag}}, nil
	}
	return api.GetPost200JSONResponse{
		Body:    api.PostDetail{Data: apimodel.Post(p), Links: postLinks(p)},
		Headers: api.GetPost200ResponseHeaders{ETag: tag},
	}, nil
}

// PatchPost serves PATCH /api/posts/{id}.
func (s *Server) PatchPost(ctx context.Context, req api.PatchPostRequestObject) (api.PatchPostResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Posts.Update(ctx, req.Id, service.UpdatePostInput{Title: req.Body.Title, Content: req.Body.Content, Precondition: m})
	if err != nil {
		return nil, err
	}
	return api.PatchPost200JSONResponse{
		Body:    api.PostData{Data: apimodel.Post(p)},
		Headers: api.PatchPost200ResponseHeaders{ETag: etag.Of(p.Version)},
	}, nil
}

// DeletePost serves DELETE /api/posts/{id}.
func (s *Server) DeletePost(ctx context.Context, req api.DeletePostRequestObject) (api.DeletePostResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Posts.Delete(ctx, req.Id, m); err != nil {
		return nil, err
	}
	return api.DeletePost204Response{}, nil
}

// PublishPost serves POST /api/posts/{id}/publish.
func (s *Server) PublishPost(ctx context.Context, req api.PublishPostRequestObject) (api.PublishPostResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Posts.Publish(ctx, req.Id, m)
	if err != nil {
		return nil, err
	}
	return api.PublishPost200JSONResponse{
		Body:    api.PostData{Data: apimodel.Post(p)},
		Headers: api.PublishPost200ResponseHeaders{ETag: etag.Of(p.Version)},
	}, nil
}
