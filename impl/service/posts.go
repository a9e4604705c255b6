package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
)

// The limits on post fields, as in openapi.yaml.
const (
	TitleMaxLen       = 200
	PostContentMaxLen = 50_000
)

// Post is a post. Drafts (Published false) are visible to their author only.
type Post struct {
	ID          uuid.UUID
	AuthorID    uuid.UUID
	Title       string
	Content     string
	Published   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt *time.Time
}

// PostSort is a whitelisted sort key for post lists.
type PostSort string

// The sort keys of post lists.
const (
	PostSortCreatedAt PostSort = "createdAt"
	PostSortTitle     PostSort = "title"
)

// ListPostsParams selects a page of posts. Nil filters do not filter.
type ListPostsParams struct {
	Page      int
	Limit     int
	Sort      PostSort
	Order     SortOrder
	Published *bool
	AuthorID  *uuid.UUID
	Search    string
	// SkipTotal leaves Total at -1 and saves the count query.
	SkipTotal bool
}

// PostPage is one page of posts, whether more follow, and the number on all pages.
type PostPage struct {
	Posts   []Post
	HasMore bool
	Total   int64
}

// CreatePostInput is a new post.
type CreatePostInput struct {
	Title     string
	Content   string
	Published bool
}

// UpdatePostInput changes the fields that are not nil; at least one must be set.
type UpdatePostInput struct {
	Title   *string
	Content *string
}

// ListPosts returns a page of the posts the caller may see: published ones, and their own drafts.
func (s *Service) ListPosts(ctx context.Context, p ListPostsParams) (PostPage, error) {
	fe := fieldErrors{}
	checkPage(fe, &p.Page, &p.Limit)
	checkOrder(fe, &p.Order)
	if p.Sort == "" {
		p.Sort = PostSortCreatedAt
	}
	if p.Sort != PostSortCreatedAt && p.Sort != PostSortTitle {
		fe.add("sort", "must be createdAt or title")
	}
	if utf8.RuneCountInString(p.Search) > TitleMaxLen || !validText(p.Search) {
		fe.add("search", fmt.Sprintf("must be at most %d characters of valid text", TitleMaxLen))
	}
	if err := fe.err(); err != nil {
		return PostPage{}, err
	}
	viewer := viewerOf(ctx)
	published := p.Published
	if viewer == nil && published == nil {
		// Anonymous callers see published posts only; saying so lets the planner use the published-posts index.
		published = new(true)
	}
	args := db.PostListByCreatedAtAscParams{
		Viewer:    viewer,
		Published: published,
		AuthorID:  p.AuthorID,
		Pattern:   containsPattern(p.Search),
		RowLimit:  int32(p.Limit) + 1, // one more, to know whether a next page exists
		RowOffset: offset(p.Page, p.Limit),
	}
	q, conn := s.queries, postgres.CustomPlans(s.pool)
	var rows []db.Post
	var err error
	switch {
	case p.Sort == PostSortCreatedAt && p.Order == Asc:
		rows, err = q.PostListByCreatedAtAsc(ctx, conn, args)
	case p.Sort == PostSortCreatedAt && p.Order == Desc:
		rows, err = q.PostListByCreatedAtDesc(ctx, conn, db.PostListByCreatedAtDescParams(args))
	case p.Sort == PostSortTitle && p.Order == Asc:
		rows, err = q.PostListByTitleAsc(ctx, conn, db.PostListByTitleAscParams(args))
	case p.Sort == PostSortTitle && p.Order == Desc:
		rows, err = q.PostListByTitleDesc(ctx, conn, db.PostListByTitleDescParams(args))
	}
	if err != nil {
		return PostPage{}, fmt.Errorf("list posts: %w", err)
	}
	page := PostPage{Total: -1, HasMore: len(rows) > p.Limit}
	page.Posts = toPosts(rows[:min(len(rows), p.Limit)])
	if !p.SkipTotal {
		page.Total, err = s.countPosts(ctx, db.PostCountParams{
			Viewer: args.Viewer, Published: args.Published, AuthorID: args.AuthorID, Pattern: args.Pattern,
		})
		if err != nil {
			return PostPage{}, fmt.Errorf("count posts: %w", err)
		}
	}
	return page, nil
}

// ListUserPosts is ListPosts for one author; ENOTFOUND when there is no such user.
func (s *Service) ListUserPosts(ctx context.Context, userID uuid.UUID, p ListPostsParams) (PostPage, error) {
	if err := s.requireUser(ctx, userID); err != nil {
		return PostPage{}, err
	}
	p.AuthorID = &userID
	return s.ListPosts(ctx, p)
}

// GetPost returns a post the caller may see; a draft of someone else's is ENOTFOUND, as if it did not exist.
func (s *Service) GetPost(ctx context.Context, id uuid.UUID) (Post, error) {
	row, err := s.queries.PostGetByID(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(row, viewerOf(ctx))) {
		return Post{}, notFound("Post")
	}
	if err != nil {
		return Post{}, fmt.Errorf("get post: %w", err)
	}
	return toPost(row), nil
}

// CreatePost writes a post by the caller.
func (s *Service) CreatePost(ctx context.Context, in CreatePostInput) (Post, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return Post{}, err
	}
	fe := fieldErrors{}
	checkTitle(fe, in.Title)
	checkBody(fe, "content", in.Content, PostContentMaxLen)
	if err := fe.err(); err != nil {
		return Post{}, err
	}
	var row db.Post
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		row, err = s.queries.PostCreate(ctx, tx, db.PostCreateParams{
			AuthorID: actor.UserID, Title: in.Title, Content: in.Content, Published: in.Published,
		})
		if err != nil || !row.Published {
			return err // drafts are not broadcast
		}
		return s.notify(ctx, tx, Event{Kind: EventPostCreated, ID: row.ID, PostID: row.ID})
	})
	if err != nil {
		return Post{}, fmt.Errorf("create post: %w", err)
	}
	s.totals.forget(totalsPosts)
	return toPost(row), nil
}

// UpdatePost edits the caller's post.
func (s *Service) UpdatePost(ctx context.Context, id uuid.UUID, in UpdatePostInput) (Post, error) {
	fe := fieldErrors{}
	if in.Title == nil && in.Content == nil {
		fe.add("body", "must set at least one field")
	}
	if in.Title != nil {
		checkTitle(fe, *in.Title)
	}
	if in.Content != nil {
		checkBody(fe, "content", *in.Content, PostContentMaxLen)
	}
	if err := fe.err(); err != nil {
		return Post{}, err
	}
	return s.writeOwnPost(ctx, id, func(tx pgx.Tx, _ db.Post) (db.Post, error) {
		return s.queries.PostUpdate(ctx, tx, db.PostUpdateParams{ID: id, Title: in.Title, Content: in.Content})
	})
}

// PublishPost makes the caller's post visible to everyone. Publishing twice changes nothing.
func (s *Service) PublishPost(ctx context.Context, id uuid.UUID) (Post, error) {
	return s.writeOwnPost(ctx, id, func(tx pgx.Tx, p db.Post) (db.Post, error) {
		if p.Published {
			return p, nil
		}
		published, err := s.queries.PostPublish(ctx, tx, id)
		if err != nil {
			return published, err
		}
		return published, s.notify(ctx, tx, Event{Kind: EventPostCreated, ID: id, PostID: id})
	})
}

// DeletePost deletes the caller's post and its comments.
func (s *Service) DeletePost(ctx context.Context, id uuid.UUID) error {
	_, err := s.writeOwnPost(ctx, id, func(tx pgx.Tx, p db.Post) (db.Post, error) {
		_, err := s.queries.PostDelete(ctx, tx, id)
		return p, err
	})
	return err
}

// writeOwnPost runs write on post id, locked, in a transaction, after checking that the caller wrote it: a post
// the caller cannot see is ENOTFOUND, one they can see but did not write is EFORBIDDEN.
func (s *Service) writeOwnPost(ctx context.Context, id uuid.UUID, write func(pgx.Tx, db.Post) (db.Post, error)) (Post, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return Post{}, err
	}
	var out db.Post
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := s.queries.PostGetForUpdate(ctx, tx, id)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(p, &actor.UserID)) {
			return notFound("Post")
		}
		if err != nil {
			return err
		}
		if p.AuthorID != actor.UserID {
			return forbidden("Only the author may change this post.")
		}
		out, err = write(tx, p)
		return err
	})
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return Post{}, se
		}
		return Post{}, fmt.Errorf("write post: %w", err)
	}
	s.totals.forget(totalsPosts)
	return toPost(out), nil
}

// requireUser returns ENOTFOUND when user id does not exist.
func (s *Service) requireUser(ctx context.Context, id uuid.UUID) error {
	exists, err := s.queries.UserExists(ctx, s.pool, id)
	if err != nil {
		return fmt.Errorf("check user: %w", err)
	}
	if !exists {
		return notFound("User")
	}
	return nil
}

// visible is the visibility rule of the queries: published posts to everyone, drafts to their author.
func visible(p db.Post, viewer *uuid.UUID) bool {
	return p.Published || (viewer != nil && *viewer == p.AuthorID)
}

func checkTitle(fe fieldErrors, title string) {
	n := utf8.RuneCountInString(title)
	switch {
	case n < 1 || n > TitleMaxLen:
		fe.add("title", fmt.Sprintf("must be 1 to %d characters", TitleMaxLen))
	case blank(title):
		fe.add("title", "must not be blank")
	case !validText(title) || strings.ContainsFunc(title, unicode.IsControl):
		fe.add("title", "must not contain control characters")
	}
}

// checkBody checks free text (post or comment content): 1..max characters, not blank, storable.
func checkBody(fe fieldErrors, field, text string, max int) {
	n := utf8.RuneCountInString(text)
	switch {
	case n < 1 || n > max:
		fe.add(field, fmt.Sprintf("must be 1 to %d characters", max))
	case blank(text):
		fe.add(field, "must not be blank")
	case !validText(text):
		fe.add(field, "must be valid text without NUL characters")
	}
}
