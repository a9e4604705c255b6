package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
)

// The batch reads below serve dataloaders: each answers for many keys in one statement.

// PerParentLimit bounds the posts of a user and the comments of a post that nested reads return;
// DefaultPerParent is how many they return when the caller does not say.
const (
	PerParentLimit   = 100
	DefaultPerParent = 20
)

// CheckPerParent refuses a per-parent item count (the limit of User.posts or Post.comments) outside
// 1..[PerParentLimit], naming field in the error.
func CheckPerParent(field string, n int) error {
	if n < 1 || n > PerParentLimit {
		fe := fieldErrors{}
		fe.add(field, fmt.Sprintf("must be between 1 and %d", PerParentLimit))
		return fe.err()
	}
	return nil
}

// LoadUsers returns the users among ids. Signed-in callers only, as every read of users.
func (s *Service) LoadUsers(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]User, error) {
	if _, err := requireActor(ctx); err != nil {
		return nil, err
	}
	rows, err := s.queries.UserListByIDs(ctx, s.pool, ids)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	out := make(map[uuid.UUID]User, len(rows))
	for _, r := range rows {
		out[r.ID] = toUser(r)
	}
	return out, nil
}

// LoadPosts returns those of the posts among ids that the caller may see.
func (s *Service) LoadPosts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Post, error) {
	rows, err := s.queries.PostListByIDs(ctx, s.pool, db.PostListByIDsParams{Ids: ids, Viewer: viewerOf(ctx)})
	if err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	out := make(map[uuid.UUID]Post, len(rows))
	for _, r := range rows {
		out[r.ID] = toPost(r)
	}
	return out, nil
}

// LoadPostsByAuthors returns each author's perAuthor newest posts that the caller may see.
func (s *Service) LoadPostsByAuthors(ctx context.Context, authorIDs []uuid.UUID, perAuthor int) (map[uuid.UUID][]Post, error) {
	if err := CheckPerParent("limit", perAuthor); err != nil {
		return nil, err
	}
	rows, err := s.queries.PostListByAuthors(ctx, s.pool, db.PostListByAuthorsParams{
		AuthorIds: authorIDs, Viewer: viewerOf(ctx), PerAuthor: int32(perAuthor),
	})
	if err != nil {
		return nil, fmt.Errorf("load posts by authors: %w", err)
	}
	out := make(map[uuid.UUID][]Post, len(authorIDs))
	for _, r := range rows {
		out[r.AuthorID] = append(out[r.AuthorID], toPost(r))
	}
	return out, nil
}

// LoadCommentsByPosts returns each post's perPost first comments. The posts come from visible reads.
func (s *Service) LoadCommentsByPosts(ctx context.Context, postIDs []uuid.UUID, perPost int) (map[uuid.UUID][]Comment, error) {
	if err := CheckPerParent("limit", perPost); err != nil {
		return nil, err
	}
	rows, err := s.queries.CommentListByPosts(ctx, s.pool, db.CommentListByPostsParams{PostIds: postIDs, PerPost: int32(perPost)})
	if err != nil {
		return nil, fmt.Errorf("load comments by posts: %w", err)
	}
	out := make(map[uuid.UUID][]Comment, len(postIDs))
	for _, r := range rows {
		out[r.PostID] = append(out[r.PostID], toComment(r))
	}
	return out, nil
}

// GetComment returns a comment on a post the caller may see.
func (s *Service) GetComment(ctx context.Context, id uuid.UUID) (Comment, error) {
	row, err := s.queries.CommentGetByID(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Comment{}, notFound("Comment")
	}
	if err != nil {
		return Comment{}, fmt.Errorf("get comment: %w", err) // an outage is not "not found"
	}
	if _, err := s.GetPost(ctx, row.PostID); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Comment{}, notFound("Comment") // on a post the caller cannot see
		}
		return Comment{}, fmt.Errorf("get comment: %w", err)
	}
	return toComment(row), nil
}
