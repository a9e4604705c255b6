package graph

import (
	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/service"
)

func toGQLUser(u service.User) *gql.User {
	return &gql.User{ID: u.ID.String(), Name: u.Name, Email: u.Email, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func toGQLPost(p service.Post) *gql.Post {
	return &gql.Post{
		ID: p.ID.String(), Title: p.Title, Content: p.Content, Published: p.Published, PublishedAt: p.PublishedAt,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, AuthorID: p.AuthorID,
	}
}

// toGQLPosts converts a list with one allocation for its posts.
func toGQLPosts(ps []service.Post) []*gql.Post {
	out := make([]*gql.Post, len(ps))
	all := make([]gql.Post, len(ps))
	for i, p := range ps {
		all[i] = *toGQLPost(p)
		out[i] = &all[i]
	}
	return out
}

// toGQLComments converts a list with one allocation for its comments.
func toGQLComments(cs []service.Comment) []*gql.Comment {
	out := make([]*gql.Comment, len(cs))
	all := make([]gql.Comment, len(cs))
	for i, c := range cs {
		all[i] = gql.Comment{ID: c.ID.String(), Content: c.Content, CreatedAt: c.CreatedAt, AuthorID: c.AuthorID, PostID: c.PostID}
		out[i] = &all[i]
	}
	return out
}

func toGQLComment(c service.Comment) *gql.Comment {
	return &gql.Comment{ID: c.ID.String(), Content: c.Content, CreatedAt: c.CreatedAt, AuthorID: c.AuthorID, PostID: c.PostID}
}

// parseID turns a GraphQL ID into a uuid, or a BAD_USER_INPUT error naming the argument.
func parseID(field, id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, &service.Error{Code: service.EINVALID, Message: field + " is not a valid id.",
			Fields: map[string][]string{field: {"must be a UUID"}}}
	}
	return u, nil
}
