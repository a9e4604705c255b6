// Package comments is the comment resource: comments on posts the caller may see, the author's notification
// email, and the batch reads of nested lists.
package comments

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// Posts is what comments need of the posts service: whether the caller may see a post.
type Posts interface {
	Get(ctx context.Context, id uuid.UUID) (service.Post, error)
}

// Service reads and writes comments. It is safe for concurrent use.
type Service struct {
	core  *core.Core
	posts Posts
}

// New returns a Service over c.
func New(c *core.Core, posts Posts) *Service { return &Service{core: c, posts: posts} }

func normalize(p *service.ListCommentsParams) error {
	fe := core.FieldErrors{}
	core.CheckPage(fe, &p.Page, &p.Limit)
	core.CheckOrder(fe, &p.Order)
	return fe.Err()
}

// ListByPost returns the comments on a post the caller may see.
func (s *Service) ListByPost(ctx context.Context, postID uuid.UUID, p service.ListCommentsParams) (service.CommentPage, error) {
	if err := normalize(&p); err != nil {
		return service.CommentPage{}, err
	}
	if _, err := s.posts.Get(ctx, postID); err != nil {
		return service.CommentPage{}, err
	}
	rows, err := s.core.Queries.CommentListByPost(ctx, s.core.DB, db.CommentListByPostParams{
		PostID: postID, Descending: p.Order == service.Desc, RowLimit: int32(p.Limit), RowOffset: core.Offset(p.Page, p.Limit),
	})
	if err != nil {
		return service.CommentPage{}, fmt.Errorf("list comments: %w", err)
	}
	total, err := s.core.Queries.CommentCountByPost(ctx, s.core.DB, postID)
	if err != nil {
		return service.CommentPage{}, fmt.Errorf("count comments: %w", err)
	}
	return service.CommentPage{Comments: core.ToComments(rows), Total: total}, nil
}

// ListByAuthor returns a user's comments on posts the caller may see; ENOTFOUND when there is no such user.
func (s *Service) ListByAuthor(ctx context.Context, userID uuid.UUID, p service.ListCommentsParams) (service.CommentPage, error) {
	if err := normalize(&p); err != nil {
		return service.CommentPage{}, err
	}
	if err := s.core.RequireUser(ctx, userID); err != nil {
		return service.CommentPage{}, err
	}
	viewer := core.Viewer(ctx)
	rows, err := s.core.Queries.CommentListByAuthor(ctx, s.core.DB, db.CommentListByAuthorParams{
		AuthorID: userID, Viewer: viewer, Descending: p.Order == service.Desc,
		RowLimit: int32(p.Limit), RowOffset: core.Offset(p.Page, p.Limit),
	})
	if err != nil {
		return service.CommentPage{}, fmt.Errorf("list comments: %w", err)
	}
	total, err := s.core.Queries.CommentCountByAuthor(ctx, s.core.DB, db.CommentCountByAuthorParams{AuthorID: userID, Viewer: viewer})
	if err != nil {
		return service.CommentPage{}, fmt.Errorf("count comments: %w", err)
	}
	return service.CommentPage{Comments: core.ToComments(rows), Total: total}, nil
}

// Get returns a comment on a post the caller may see. Only a comment that is not there (or on a post the caller
// cannot see) is ENOTFOUND: an outage keeps its code.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (service.Comment, error) {
	row, err := s.core.Queries.CommentGetByID(ctx, s.core.DB, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return service.Comment{}, core.NotFound("Comment")
	}
	if err != nil {
		return service.Comment{}, fmt.Errorf("get comment: %w", err)
	}
	if _, err := s.posts.Get(ctx, row.PostID); err != nil {
		if service.ErrorCode(err) == service.ENOTFOUND {
			return service.Comment{}, core.NotFound("Comment") // on a post the caller cannot see
		}
		return service.Comment{}, fmt.Errorf("get comment: %w", err)
	}
	return core.ToComment(row), nil
}

// ByPosts returns each post's perPost first comments, in one statement. The posts come from visible reads.
func (s *Service) ByPosts(ctx context.Context, postIDs []uuid.UUID, perPost int) (map[uuid.UUID][]service.Comment, error) {
	if err := service.CheckPerParent("limit", perPost); err != nil {
		return nil, err
	}
	rows, err := s.core.Queries.CommentListByPosts(ctx, s.core.DB, db.CommentListByPostsParams{PostIds: postIDs, PerPost: int32(perPost)})
	if err != nil {
		return nil, fmt.Errorf("comments by posts: %w", err)
	}
	out := make(map[uuid.UUID][]service.Comment, len(postIDs))
	for _, r := range rows {
		out[r.PostID] = append(out[r.PostID], core.ToComment(r))
	}
	return out, nil
}

// ByPostsWithAuthors is ByPosts with each comment's author, read in the same statement. Users are visible to
// signed-in callers only, as through the users service: an anonymous caller is refused, whose comments ByPosts
// still serves.
func (s *Service) ByPostsWithAuthors(ctx context.Context, postIDs []uuid.UUID, perPost int) (map[uuid.UUID][]service.Comment, map[uuid.UUID]service.User, error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return nil, nil, err
	}
	if err := service.CheckPerParent("limit", perPost); err != nil {
		return nil, nil, err
	}
	rows, err := s.core.Queries.CommentListByPostsWithAuthors(ctx, s.core.DB, db.CommentListByPostsWithAuthorsParams{PostIds: postIDs, PerPost: int32(perPost)})
	if err != nil {
		return nil, nil, fmt.Errorf("comments with authors by posts: %w", err)
	}
	comments := make(map[uuid.UUID][]service.Comment, len(postIDs))
	authors := make(map[uuid.UUID]service.User, len(rows))
	for _, r := range rows {
		comments[r.PostID] = append(comments[r.PostID], service.Comment{ID: r.ID, PostID: r.PostID, AuthorID: r.AuthorID,
			Content: r.Content, CreatedAt: r.CreatedAt, Version: r.Version})
		authors[r.AuthorID] = service.User{ID: r.AuthorID, Name: r.AuthorName, Email: r.AuthorEmail,
			CreatedAt: r.AuthorCreatedAt, UpdatedAt: r.AuthorUpdatedAt, Version: r.AuthorVersion}
	}
	return comments, authors, nil
}

// Create adds the caller's comment to a post they may see. In its transaction it announces a comment on a
// published post and queues the email that tells the post's author, unless they wrote it.
func (s *Service) Create(ctx context.Context, postID uuid.UUID, content string) (service.Comment, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return service.Comment{}, err
	}
	fe := core.FieldErrors{}
	core.CheckBody(fe, "content", content, service.CommentContentMaxLen)
	if err := fe.Err(); err != nil {
		return service.Comment{}, err
	}
	var row db.Comment
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		// Keep the post from being deleted between the check and the insert.
		p, err := s.core.Queries.PostGetForKeyShare(ctx, tx, postID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !core.Visible(p, &actor.UserID)) {
			return core.NotFound("Post")
		}
		if err != nil {
			return err
		}
		row, err = s.core.Queries.CommentCreate(ctx, tx, db.CommentCreateParams{PostID: postID, AuthorID: actor.UserID, Content: content})
		if err != nil {
			return err
		}
		var added *service.Event // subscribers hear of comments on published posts only
		if p.Published {
			added = &service.Event{Kind: service.EventCommentAdded, ID: row.ID, PostID: postID}
		}
		if err := announce(ctx, s.core, tx, service.WebhookCommentCreated, row, p.AuthorID, p.Published, added); err != nil {
			return err
		}
		if p.AuthorID == actor.UserID {
			return nil
		}
		return s.notifyAuthor(ctx, tx, p, actor, content)
	})
	var se *service.Error
	if errors.As(err, &se) {
		return service.Comment{}, se
	}
	if err != nil {
		return service.Comment{}, fmt.Errorf("create comment: %w", err)
	}
	return core.ToComment(row), nil
}

// Delete deletes a comment, if its version meets m; allowed to its author and to the author of its post.
func (s *Service) Delete(ctx context.Context, id uuid.UUID, m service.Match) error {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return err
	}
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		c, err := s.core.Queries.CommentGetWithPost(ctx, tx, id)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !c.PostPublished && c.PostAuthorID != actor.UserID) {
			return core.NotFound("Comment")
		}
		if err != nil {
			return err
		}
		if c.AuthorID != actor.UserID && c.PostAuthorID != actor.UserID {
			return core.Forbidden("Only the comment's author or the post's author may delete this comment.")
		}
		deleted, err := s.core.Queries.CommentDelete(ctx, tx, db.CommentDeleteParams{ID: id, IfMatch: m.Arg(), IfNoneMatch: m.ExceptArg()})
		if errors.Is(err, pgx.ErrNoRows) { // deleted meanwhile, or kept by its precondition
			if why := core.Unwritten("Comment", m, func() (int64, error) {
				now, err := s.core.Queries.CommentGetByID(ctx, tx, id)
				return now.Version, err
			}); why != nil {
				return why
			}
			return errors.New("delete comment: no row deleted")
		}
		if err != nil {
			return err
		}
		return announce(ctx, s.core, tx, service.WebhookCommentDeleted, deleted, c.PostAuthorID, c.PostPublished, nil)
	})
	var se *service.Error
	if errors.As(err, &se) {
		return se
	}
	if err != nil {
		return fmt.Errorf("delete comment: %w", err)
	}
	return nil
}

// announce records an outgoing webhook about comment c in tx, for the endpoints of the post's author (and of
// admins, unless the post is a draft). A non-nil e goes to every instance's listener too, in the same statement.
func announce(ctx context.Context, c *core.Core, tx pgx.Tx, t service.WebhookEventType, row db.Comment, postAuthor uuid.UUID, published bool, e *service.Event) error {
	m := service.WebhookMessage{Type: t, OwnerID: &postAuthor, Private: !published, Data: core.ToComment(row)}
	if e != nil {
		return c.PublishNotify(ctx, tx, m, *e)
	}
	return c.Publish(ctx, tx, m)
}

// notifyAuthor queues the email that tells a post's author about someone else's comment.
func (s *Service) notifyAuthor(ctx context.Context, tx pgx.Tx, p db.Post, actor service.Actor, content string) error {
	author, err := s.core.Queries.UserGetByID(ctx, tx, p.AuthorID)
	if err != nil {
		return fmt.Errorf("load post author: %w", err)
	}
	commenter, err := s.core.Queries.UserGetByID(ctx, tx, actor.UserID)
	if err != nil {
		return fmt.Errorf("load commenter: %w", err)
	}
	return s.core.Enqueue(ctx, tx, service.EmailArgs{
		Type: service.EmailNotification, To: author.Email, Name: author.Name,
		PostID: p.ID.String(), PostTitle: p.Title, ActorName: commenter.Name, Excerpt: excerpt(content, 280),
	})
}

// excerpt cuts s to at most n characters, on a rune boundary.
func excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
