// Package posts is the post resource: drafts that only their author sees, publishing, and the lists and batch
// reads that show posts to whoever may see them.
package posts

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/service/internal/totals"
)

// Service reads and writes posts. It is safe for concurrent use.
type Service struct {
	core   *core.Core
	totals *totals.Cache
}

// New returns a Service over c.
func New(c *core.Core, totals *totals.Cache) *Service {
	return &Service{core: c, totals: totals}
}

// List returns a page of the posts the caller may see: published ones, and their own drafts.
func (s *Service) List(ctx context.Context, p service.ListPostsParams) (service.PostPage, error) {
	fe := core.FieldErrors{}
	core.CheckPage(fe, &p.Page, &p.Limit)
	core.CheckOrder(fe, &p.Order)
	if p.Sort == "" {
		p.Sort = service.PostSortCreatedAt
	}
	if p.Sort != service.PostSortCreatedAt && p.Sort != service.PostSortTitle {
		fe.Add("sort", "must be createdAt or title")
	}
	core.CheckSearch(fe, p.Search, service.TitleMaxLen)
	if err := fe.Err(); err != nil {
		return service.PostPage{}, err
	}
	viewer := core.Viewer(ctx)
	published := p.Published
	if viewer == nil && published == nil {
		// Anonymous callers see published posts only; saying so lets the planner use the published-posts index.
		published = new(true)
	}
	args := db.PostListByCreatedAtAscParams{
		Viewer:    viewer,
		Published: published,
		AuthorID:  p.AuthorID,
		Pattern:   core.ContainsPattern(p.Search),
		RowLimit:  int32(p.Limit) + 1, // one more, to know whether a next page exists
		RowOffset: core.Offset(p.Page, p.Limit),
	}
	q, conn := s.core.Queries, postgres.CustomPlans(s.core.DB)
	var rows []db.Post
	var err error
	switch {
	case p.Sort == service.PostSortCreatedAt && p.Order == service.Asc:
		rows, err = q.PostListByCreatedAtAsc(ctx, conn, args)
	case p.Sort == service.PostSortCreatedAt && p.Order == service.Desc:
		rows, err = q.PostListByCreatedAtDesc(ctx, conn, db.PostListByCreatedAtDescParams(args))
	case p.Sort == service.PostSortTitle && p.Order == service.Asc:
		rows, err = q.PostListByTitleAsc(ctx, conn, db.PostListByTitleAscParams(args))
	case p.Sort == service.PostSortTitle && p.Order == service.Desc:
		rows, err = q.PostListByTitleDesc(ctx, conn, db.PostListByTitleDescParams(args))
	}
	if err != nil {
		return service.PostPage{}, fmt.Errorf("list posts: %w", err)
	}
	page := service.PostPage{Total: -1, HasMore: len(rows) > p.Limit}
	page.Posts = core.ToPosts(rows[:min(len(rows), p.Limit)])
	if !p.SkipTotal {
		page.Total, err = s.count(ctx, db.PostCountParams{
			Viewer: args.Viewer, Published: args.Published, AuthorID: args.AuthorID, Pattern: args.Pattern,
		})
		if err != nil {
			return service.PostPage{}, fmt.Errorf("count posts: %w", err)
		}
	}
	return page, nil
}

// ListByAuthor is List for one author; ENOTFOUND when there is no such user.
func (s *Service) ListByAuthor(ctx context.Context, userID uuid.UUID, p service.ListPostsParams) (service.PostPage, error) {
	if err := s.core.RequireUser(ctx, userID); err != nil {
		return service.PostPage{}, err
	}
	p.AuthorID = &userID
	return s.List(ctx, p)
}

// ByCursor returns a keyset page of the posts the caller may see, newest first.
func (s *Service) ByCursor(ctx context.Context, published *bool, p service.KeysetParams) (service.Page[service.Post], error) {
	k, err := core.PlanKeyset(p)
	if err != nil {
		return service.Page[service.Post]{}, err
	}
	viewer := core.Viewer(ctx)
	t, id, limit := k.Args()
	conn := postgres.CustomPlans(s.core.DB)
	var rows []db.Post
	if k.Forward {
		rows, err = s.core.Queries.PostKeysetForward(ctx, conn, db.PostKeysetForwardParams{Viewer: viewer, Published: published, CursorTime: t, CursorID: id, RowLimit: limit})
	} else {
		rows, err = s.core.Queries.PostKeysetBackward(ctx, conn, db.PostKeysetBackwardParams{Viewer: viewer, Published: published, CursorTime: t, CursorID: id, RowLimit: limit})
	}
	if err != nil {
		return service.Page[service.Post]{}, fmt.Errorf("posts by cursor: %w", err)
	}
	return core.FinishKeyset(k, core.ToPosts(rows), func(p service.Post) service.Cursor { return service.Cursor{CreatedAt: p.CreatedAt, ID: p.ID} }), nil
}

// Count counts the posts the caller may see, optionally only published ones or only drafts.
func (s *Service) Count(ctx context.Context, published *bool) (int64, error) {
	n, err := s.count(ctx, db.PostCountParams{Viewer: core.Viewer(ctx), Published: published})
	if err != nil {
		return 0, fmt.Errorf("count posts: %w", err)
	}
	return n, nil
}

// count counts the posts p selects, through the totals cache.
func (s *Service) count(ctx context.Context, p db.PostCountParams) (int64, error) {
	viewer := totals.Filter(p.Viewer, uuid.UUID.String)
	if p.Published != nil && *p.Published {
		viewer = "*" // only published posts: every viewer sees the same total
	}
	key := totals.Key(totals.Posts, viewer, totals.Filter(p.Published, strconv.FormatBool),
		totals.Filter(p.AuthorID, uuid.UUID.String), totals.Filter(p.Pattern, func(p string) string { return p }))
	return s.totals.Get(ctx, key, func(ctx context.Context) (int64, error) {
		return s.core.Queries.PostCount(ctx, postgres.CustomPlans(s.core.DB), p)
	})
}

// Get returns a post the caller may see; a draft of someone else's is ENOTFOUND, as if it did not exist.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (service.Post, error) {
	row, err := s.core.Queries.PostGetByID(ctx, s.core.DB, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !core.Visible(row, core.Viewer(ctx))) {
		return service.Post{}, core.NotFound("Post")
	}
	if err != nil {
		return service.Post{}, fmt.Errorf("get post: %w", err)
	}
	return core.ToPost(row), nil
}

// ByIDs returns those of the posts among ids that the caller may see, in one statement.
func (s *Service) ByIDs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]service.Post, error) {
	rows, err := s.core.Queries.PostListByIDs(ctx, s.core.DB, db.PostListByIDsParams{Ids: ids, Viewer: core.Viewer(ctx)})
	if err != nil {
		return nil, fmt.Errorf("posts by ids: %w", err)
	}
	out := make(map[uuid.UUID]service.Post, len(rows))
	for _, r := range rows {
		out[r.ID] = core.ToPost(r)
	}
	return out, nil
}

// ByAuthors returns each author's perAuthor newest posts that the caller may see, in one statement.
func (s *Service) ByAuthors(ctx context.Context, authorIDs []uuid.UUID, perAuthor int) (map[uuid.UUID][]service.Post, error) {
	if err := service.CheckPerParent("limit", perAuthor); err != nil {
		return nil, err
	}
	rows, err := s.core.Queries.PostListByAuthors(ctx, s.core.DB, db.PostListByAuthorsParams{
		AuthorIds: authorIDs, Viewer: core.Viewer(ctx), PerAuthor: int32(perAuthor),
	})
	if err != nil {
		return nil, fmt.Errorf("posts by authors: %w", err)
	}
	out := make(map[uuid.UUID][]service.Post, len(authorIDs))
	for _, r := range rows {
		out[r.AuthorID] = append(out[r.AuthorID], core.ToPost(r))
	}
	return out, nil
}

// Create writes a post by the caller; a published one is announced when it commits.
func (s *Service) Create(ctx context.Context, in service.CreatePostInput) (service.Post, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return service.Post{}, err
	}
	fe := core.FieldErrors{}
	core.CheckLine(fe, "title", in.Title, service.TitleMaxLen)
	core.CheckBody(fe, "content", in.Content, service.PostContentMaxLen)
	if err := fe.Err(); err != nil {
		return service.Post{}, err
	}
	var row db.Post
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		row, err = s.core.Queries.PostCreate(ctx, tx, db.PostCreateParams{
			AuthorID: actor.UserID, Title: in.Title, Content: in.Content, Published: in.Published,
		})
		if err != nil || !row.Published {
			return err // drafts are not broadcast
		}
		return s.announce(ctx, tx, service.WebhookPostPublished, row, &service.Event{Kind: service.EventPostCreated, ID: row.ID, PostID: row.ID})
	})
	if err != nil {
		return service.Post{}, fmt.Errorf("create post: %w", err)
	}
	s.totals.Forget(totals.Posts)
	return core.ToPost(row), nil
}

// Update edits the caller's post.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in service.UpdatePostInput) (service.Post, error) {
	fe := core.FieldErrors{}
	if in.Title == nil && in.Content == nil {
		fe.Add("body", "must set at least one field")
	}
	if in.Title != nil {
		core.CheckLine(fe, "title", *in.Title, service.TitleMaxLen)
	}
	if in.Content != nil {
		core.CheckBody(fe, "content", *in.Content, service.PostContentMaxLen)
	}
	if err := fe.Err(); err != nil {
		return service.Post{}, err
	}
	return s.writeOwn(ctx, id, func(tx pgx.Tx, p db.Post) (db.Post, error) {
		updated, err := s.core.Queries.PostUpdate(ctx, tx, db.PostUpdateParams{
			ID: id, Title: in.Title, Content: in.Content, IfMatch: in.Precondition.Arg(), IfNoneMatch: in.Precondition.ExceptArg(),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			// writeOwn holds the row locked: only the statement's precondition (If-Match, If-None-Match) can have
			// left it unchanged.
			return updated, service.PreconditionFailed("post", p.Version)
		}
		if err != nil {
			return updated, err
		}
		return updated, s.announce(ctx, tx, service.WebhookPostUpdated, updated, nil)
	})
}

// Publish makes the caller's post visible to everyone, announcing it when it commits, if its version meets m:
// so that what is published is the version the caller read. Publishing twice changes nothing.
func (s *Service) Publish(ctx context.Context, id uuid.UUID, m service.Match) (service.Post, error) {
	return s.writeOwn(ctx, id, func(tx pgx.Tx, p db.Post) (db.Post, error) {
		if !m.Holds(p.Version) {
			// writeOwn holds the row locked: no edit can come between this comparison and the publish.
			return p, service.PreconditionFailed("post", p.Version)
		}
		if p.Published {
			return p, nil
		}
		published, err := s.core.Queries.PostPublish(ctx, tx, id)
		if err != nil {
			return published, err
		}
		return published, s.announce(ctx, tx, service.WebhookPostPublished, published, &service.Event{Kind: service.EventPostCreated, ID: id, PostID: id})
	})
}

// Delete deletes the caller's post and its comments, if its version meets m.
func (s *Service) Delete(ctx context.Context, id uuid.UUID, m service.Match) error {
	_, err := s.writeOwn(ctx, id, func(tx pgx.Tx, p db.Post) (db.Post, error) {
		n, err := s.core.Queries.PostDelete(ctx, tx, db.PostDeleteParams{ID: id, IfMatch: m.Arg(), IfNoneMatch: m.ExceptArg()})
		if err != nil {
			return p, err
		}
		if n == 0 { // the row is locked: only its precondition can have kept it
			return p, service.PreconditionFailed("post", p.Version)
		}
		return p, s.announce(ctx, tx, service.WebhookPostDeleted, p, nil)
	})
	return err
}

// announce records an outgoing webhook about post p in tx: to its author's endpoints, and to admins' unless p is
// a draft, which nobody else may see. A non-nil e goes to every instance's listener too, in the same statement.
func (s *Service) announce(ctx context.Context, tx pgx.Tx, t service.WebhookEventType, p db.Post, e *service.Event) error {
	m := service.WebhookMessage{Type: t, OwnerID: &p.AuthorID, Private: !p.Published, Data: core.ToPost(p)}
	if e != nil {
		return s.core.PublishNotify(ctx, tx, m, *e)
	}
	return s.core.Publish(ctx, tx, m)
}

// writeOwn runs write on post id, locked, in a transaction, after checking that the caller wrote it: a post
// the caller cannot see is ENOTFOUND, one they can see but did not write is EFORBIDDEN.
func (s *Service) writeOwn(ctx context.Context, id uuid.UUID, write func(pgx.Tx, db.Post) (db.Post, error)) (service.Post, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return service.Post{}, err
	}
	var out db.Post
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		p, err := s.core.Queries.PostGetForUpdate(ctx, tx, id)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !core.Visible(p, &actor.UserID)) {
			return core.NotFound("Post")
		}
		if err != nil {
			return err
		}
		if p.AuthorID != actor.UserID {
			return core.Forbidden("Only the author may change this post.")
		}
		out, err = write(tx, p)
		return err
	})
	if err != nil {
		var se *service.Error
		if errors.As(err, &se) {
			return service.Post{}, se
		}
		return service.Post{}, fmt.Errorf("write post: %w", err)
	}
	s.totals.Forget(totals.Posts)
	return core.ToPost(out), nil
}
