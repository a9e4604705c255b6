package httpapi

import (
	"context"
	"net/url"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/etag"
	"github.com/junction-dev/junction/impl/service"
)

func (s *Server) listComments(
	ctx context.Context, path string, page *api.Page, limit *api.Limit, order string,
	list func(context.Context, uuid.UUID, service.ListCommentsParams) (service.CommentPage, error), id uuid.UUID,
) (api.CommentList, error) {
	p := service.ListCommentsParams{Order: service.SortOrder(order)}
	p.Page, p.Limit = pageParams(page, limit)
	res, err := list(ctx, id, p)
	if err != nil {
		return api.CommentList{}, err
	}
	pagination, links := paginate(listQuery{path: path, page: p.Page, limit: p.Limit, other: url.Values{"order": {order}}}, res.Total)
	return api.CommentList{Data: apimodel.Comments(res.Comments), Pagination: pagination, Links: links}, nil
}

// ListPostComments serves GET /api/posts/{id}/comments.
func (s *Server) ListPostComments(ctx context.Context, req api.ListPostCommentsRequestObject) (api.ListPostCommentsResponseObject, error) {
	list, err := s.listComments(ctx, postPath(req.Id)+"/comments", req.Params.Page, req.Params.Limit,
		orString(req.Params.Order, string(service.Desc)), s.svc.Comments.ListByPost, req.Id)
	if err != nil {
		return nil, err
	}
	return api.ListPostComments200JSONResponse{Body: list}, nil
}

// ListUserComments serves GET /api/users/{id}/comments.
func (s *Server) ListUserComments(ctx context.Context, req api.ListUserCommentsRequestObject) (api.ListUserCommentsResponseObject, error) {
	list, err := s.listComments(ctx, userPath(req.Id)+"/comments", req.Params.Page, req.Params.Limit,
		orString(req.Params.Order, string(service.Desc)), s.svc.Comments.ListByAuthor, req.Id)
	if err != nil {
		return nil, err
	}
	return api.ListUserComments200JSONResponse{Body: list}, nil
}

// CreateComment serves POST /api/posts/{id}/comments.
func (s *Server) CreateComment(ctx context.Context, req api.CreateCommentRequestObject) (api.CreateCommentResponseObject, error) {
	c, err := s.svc.Comments.Create(ctx, req.Id, req.Body.Content)
	if err != nil {
		return nil, err
	}
	return api.CreateComment201JSONResponse{
		Body:    api.CommentCreated{Data: apimodel.Comment(c), Links: commentLinks(c)},
		Headers: api.CreateComment201ResponseHeaders{ETag: etag.Of(c.Version)},
	}, nil
}

// GetComment serves GET /api/comments/{id}.
func (s *Server) GetComment(ctx context.Context, req api.GetCommentRequestObject) (api.GetCommentResponseObject, error) {
	c, err := s.svc.Comments.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	tag := etag.Of(c.Version)
	if notModified(req.Params.IfNoneMatch, tag) {
		return api.GetComment304Response{Headers: api.NotModifiedResponseHeaders{ETag: tag}}, nil
	}
	return api.GetComment200JSONResponse{
		Body:    api.CommentDetail{Data: apimodel.Comment(c), Links: commentLinks(c)},
		Headers: api.GetComment200ResponseHeaders{ETag: tag},
	}, nil
}

func commentLinks(c service.Comment) api.CommentLinks {
	return api.CommentLinks{Self: "/api/comments/" + c.ID.String(), Post: postPath(c.PostID), Comments: postPath(c.PostID) + "/comments"}
}

// DeleteComment serves DELETE /api/comments/{id}.
func (s *Server) DeleteComment(ctx context.Context, req api.DeleteCommentRequestObject) (api.DeleteCommentResponseObject, error) {
	m, err := preconditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Comments.Delete(ctx, req.Id, m); err != nil {
		return nil, err
	}
	return api.DeleteComment204Response{}, nil
}
