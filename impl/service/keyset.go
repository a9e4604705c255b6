package service

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
)

// UsersByCursor returns a keyset page of users, newest first, filtered like ListUsers. Signed-in callers only.
func (s *Service) UsersByCursor(ctx context.Context, search string, p KeysetParams) (Page[User], error) {
	if _, err := requireActor(ctx); err != nil {
		return Page[User]{}, err
	}
	k, err := p.plan()
	if err != nil {
		return Page[User]{}, err
	}
	if utf8.RuneCountInString(search) > SearchMaxLen || !validText(search) {
		return Page[User]{}, &Error{Code: EINVALID, Message: "The request is invalid.", Fields: map[string][]string{"search": {"is too long or not text"}}}
	}
	t, id, limit := k.args()
	var rows []db.User
	if k.forward {
		rows, err = s.queries.UserKeysetForward(ctx, postgres.CustomPlans(s.pool), db.UserKeysetForwardParams{Pattern: containsPattern(search), CursorTime: t, CursorID: id, RowLimit: limit})
	} else {
		rows, err = s.queries.UserKeysetBackward(ctx, postgres.CustomPlans(s.pool), db.UserKeysetBackwardParams{Pattern: containsPattern(search), CursorTime: t, CursorID: id, RowLimit: limit})
	}
	if err != nil {
		return Page[User]{}, fmt.Errorf("users by cursor: %w", err)
	}
	return finish(k, toUsers(rows), func(u User) Cursor { return Cursor{u.CreatedAt, u.ID} }), nil
}

// CountUsers counts the users matching search. Signed-in callers only.
func (s *Service) CountUsers(ctx context.Context, search string) (int64, error) {
	if _, err := requireActor(ctx); err != nil {
		return 0, err
	}
	n, err := s.countUsers(ctx, containsPattern(search))
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// PostsByCursor returns a keyset page of the posts the caller may see, newest first.
func (s *Service) PostsByCursor(ctx context.Context, published *bool, p KeysetParams) (Page[Post], error) {
	k, err := p.plan()
	if err != nil {
		return Page[Post]{}, err
	}
	viewer := viewerOf(ctx)
	t, id, limit := k.args()
	var rows []db.Post
	if k.forward {
		rows, err = s.queries.PostKeysetForward(ctx, postgres.CustomPlans(s.pool), db.PostKeysetForwardParams{Viewer: viewer, Published: published, CursorTime: t, CursorID: id, RowLimit: limit})
	} else {
		rows, err = s.queries.PostKeysetBackward(ctx, postgres.CustomPlans(s.pool), db.PostKeysetBackwardParams{Viewer: viewer, Published: published, CursorTime: t, CursorID: id, RowLimit: limit})
	}
	if err != nil {
		return Page[Post]{}, fmt.Errorf("posts by cursor: %w", err)
	}
	return finish(k, toPosts(rows), func(p Post) Cursor { return Cursor{p.CreatedAt, p.ID} }), nil
}

// CountPosts counts the posts the caller may see, optionally only published ones or only drafts.
func (s *Service) CountPosts(ctx context.Context, published *bool) (int64, error) {
	n, err := s.countPosts(ctx, db.PostCountParams{Viewer: viewerOf(ctx), Published: published})
	if err != nil {
		return 0, fmt.Errorf("count posts: %w", err)
	}
	return n, nil
}
