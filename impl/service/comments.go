package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
)

// CommentContentMaxLen is the longest comment, as in openapi.yaml.
const CommentContentMaxLen = 5_000

// Comment is a comment on a post.
type Comment struct {
	ID        uuid.UUID
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	Content   string
	CreatedAt time.Time
}

// ListCommentsParams selects a page of comments, ordered by time.
type ListCommentsParams struct {
	Page  int
	Limit int
	Order SortOrder
}

// CommentPage is one page of comments and the number on all pages.
type CommentPage struct {
	Comments []Comment
	Total    int64
}

func (p *ListCommentsParams) normalize() error {
	fe := fieldErrors{}
	checkPage(fe, &p.Page, &p.Limit)
	checkOrder(fe, &p.Order)
	return fe.err()
}

// ListPostComments returns the comments on a post the caller may see.
func (s *Service) ListPostComments(ctx context.Context, postID uuid.UUID, p ListCommentsParams) (CommentPage, error) {
	if err := p.normalize(); err != nil {
		return CommentPage{}, err
	}
	if _, err := s.GetPost(ctx, postID); err != nil {
		return CommentPage{}, err
	}
	rows, err := s.queries.CommentListByPost(ctx, s.pool, db.CommentListByPostParams{
		PostID: postID, Descending: p.Order == Desc, RowLimit: int32(p.Limit), RowOffset: offset(p.Page, p.Limit),
	})
	if err != nil {
		return CommentPage{}, fmt.Errorf("list comments: %w", err)
	}
	total, err := s.queries.CommentCountByPost(ctx, s.pool, postID)
	if err != nil {
		return CommentPage{}, fmt.Errorf("count comments: %w", err)
	}
	return CommentPage{Comments: toComments(rows), Total: total}, nil
}

// ListUserComments returns a user's comments on posts the caller may see; ENOTFOUND when there is no such user.
func (s *Service) ListUserComments(ctx context.Context, userID uuid.UUID, p ListCommentsParams) (CommentPage, error) {
	if err := p.normalize(); err != nil {
		return CommentPage{}, err
	}
	if err := s.requireUser(ctx, userID); err != nil {
		return CommentPage{}, err
	}
	viewer := viewerOf(ctx)
	rows, err := s.queries.CommentListByAuthor(ctx, s.pool, db.CommentListByAuthorParams{
		AuthorID: userID, Viewer: viewer, Descending: p.Order == Desc,
		RowLimit: int32(p.Limit), RowOffset: offset(p.Page, p.Limit),
	})
	if err != nil {
		return CommentPage{}, fmt.Errorf("list comments: %w", err)
	}
	total, err := s.queries.CommentCountByAuthor(ctx, s.pool, db.CommentCountByAuthorParams{AuthorID: userID, Viewer: viewer})
	if err != nil {
		return CommentPage{}, fmt.Errorf("count comments: %w", err)
	}
	return CommentPage{Comments: toComments(rows), Total: total}, nil
}

// CreateComment adds the caller's comment to a post they may see.
func (s *Service) CreateComment(ctx context.Context, postID uuid.UUID, content string) (Comment, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return Comment{}, err
	}
	fe := fieldErrors{}
	checkBody(fe, "content", content, CommentContentMaxLen)
	if err := fe.err(); err != nil {
		return Comment{}, err
	}
	var row db.Comment
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Keep the post from being deleted between the check and the insert.
		p, err := s.queries.PostGetForKeyShare(ctx, tx, postID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(p, &actor.UserID)) {
			return notFound("Post")
		}
		if err != nil {
			return err
		}
		row, err = s.queries.CommentCreate(ctx, tx, db.CommentCreateParams{PostID: postID, AuthorID: actor.UserID, Content: content})
		if err != nil {
			return err
		}
		if p.Published {
			if err := s.notify(ctx, tx, Event{Kind: EventCommentAdded, ID: row.ID, PostID: postID}); err != nil {
				return err
			}
		}
		if p.AuthorID == actor.UserID {
			return nil
		}
		return s.notifyAuthor(ctx, tx, p, actor, content)
	})
	var se *Error
	if errors.As(err, &se) {
		return Comment{}, se
	}
	if err != nil {
		return Comment{}, fmt.Errorf("create comment: %w", err)
	}
	return toComment(row), nil
}

// DeleteComment deletes a comment; allowed to its author and to the author of its post.
func (s *Service) DeleteComment(ctx context.Context, id uuid.UUID) error {
	actor, err := requireActor(ctx)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := s.queries.CommentGetWithPost(ctx, tx, id)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !c.PostPublished && c.PostAuthorID != actor.UserID) {
			return notFound("Comment")
		}
		if err != nil {
			return err
		}
		if c.AuthorID != actor.UserID && c.PostAuthorID != actor.UserID {
			return forbidden("Only the comment's author or the post's author may delete this comment.")
		}
		_, err = s.queries.CommentDelete(ctx, tx, id)
		return err
	})
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	if err != nil {
		return fmt.Errorf("delete comment: %w", err)
	}
	return nil
}

// notifyAuthor queues the email that tells a post's author about someone else's comment.
func (s *Service) notifyAuthor(ctx context.Context, tx pgx.Tx, p db.Post, actor Actor, content string) error {
	author, err := s.queries.UserGetByID(ctx, tx, p.AuthorID)
	if err != nil {
		return fmt.Errorf("load post author: %w", err)
	}
	commenter, err := s.queries.UserGetByID(ctx, tx, actor.UserID)
	if err != nil {
		return fmt.Errorf("load commenter: %w", err)
	}
	return s.enqueue(ctx, tx, EmailArgs{
		Type: EmailNotification, To: author.Email, Name: author.Name,
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
