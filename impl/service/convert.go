package service

import (
	"time"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/db"
)

// toUser drops the password hash: it is the only way a db.User leaves this package.
func toUser(r db.User) User {
	return User{ID: r.ID, Name: r.Name, Email: r.Email, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toUsers(rows []db.User) []User {
	users := make([]User, len(rows))
	for i, r := range rows {
		users[i] = toUser(r)
	}
	return users
}

func toPost(r db.Post) Post {
	return Post{
		ID: r.ID, AuthorID: r.AuthorID, Title: r.Title, Content: r.Content, Published: r.Published,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PublishedAt: r.PublishedAt,
	}
}

func toPosts(rows []db.Post) []Post {
	posts := make([]Post, len(rows))
	for i, r := range rows {
		posts[i] = toPost(r)
	}
	return posts
}

// postJSON is a posts row as json_agg renders it (UserGetWithPosts).
type postJSON struct {
	ID          uuid.UUID  `json:"id"`
	AuthorID    uuid.UUID  `json:"author_id"`
	Title       string     `json:"title"`
	Content     string     `json:"content"`
	Published   bool       `json:"published"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedAt *time.Time `json:"published_at"`
}

func (r postJSON) toPost() Post {
	return Post(r)
}

func toComment(r db.Comment) Comment {
	return Comment{ID: r.ID, PostID: r.PostID, AuthorID: r.AuthorID, Content: r.Content, CreatedAt: r.CreatedAt}
}

func toComments(rows []db.Comment) []Comment {
	out := make([]Comment, len(rows))
	for i, r := range rows {
		out[i] = toComment(r)
	}
	return out
}
