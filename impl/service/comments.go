package service

import (
	"time"

	"github.com/google/uuid"
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
	// Version is raised by the database with every change of the comment (its ETag).
	Version int64
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
