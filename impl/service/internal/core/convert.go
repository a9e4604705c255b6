package core

import (
	"time"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/service"
)

// ToUser drops the password hash: it is the only way a db.User leaves the services.
func ToUser(r db.User) service.User {
	return service.User{ID: r.ID, Name: r.Name, Email: r.Email, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

// ToUsers converts rows with ToUser.
func ToUsers(rows []db.User) []service.User { return convert(rows, ToUser) }

// ToPost converts a posts row.
func ToPost(r db.Post) service.Post {
	return service.Post{
		ID: r.ID, AuthorID: r.AuthorID, Title: r.Title, Content: r.Content, Published: r.Published,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PublishedAt: r.PublishedAt, Version: r.Version,
	}
}

// ToPosts converts rows with ToPost.
func ToPosts(rows []db.Post) []service.Post { return convert(rows, ToPost) }

// PostJSON is a posts row as json_agg renders it (UserGetWithPosts).
type PostJSON struct {
	ID          uuid.UUID  `json:"id"`
	AuthorID    uuid.UUID  `json:"author_id"`
	Title       string     `json:"title"`
	Content     string     `json:"content"`
	Published   bool       `json:"published"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedAt *time.Time `json:"published_at"`
	Version     int64      `json:"version"`
}

// ToComment converts a comments row.
func ToComment(r db.Comment) service.Comment {
	return service.Comment{ID: r.ID, PostID: r.PostID, AuthorID: r.AuthorID, Content: r.Content, CreatedAt: r.CreatedAt, Version: r.Version}
}

// ToComments converts rows with ToComment.
func ToComments(rows []db.Comment) []service.Comment { return convert(rows, ToComment) }

func convert[R, T any](rows []R, f func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

// Visible is the visibility rule of the queries: published posts to everyone, drafts to their author.
func Visible(p db.Post, viewer *uuid.UUID) bool {
	return p.Published || (viewer != nil && *viewer == p.AuthorID)
}
