package service

import (
	"time"

	"github.com/google/uuid"
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
	// Version is raised by the database with every change of the post (its ETag).
	Version int64
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
	// Precondition is the versions the post may have for the change to go ahead (If-Match and If-None-Match; the zero
	// value: any).
	Precondition Match
}
