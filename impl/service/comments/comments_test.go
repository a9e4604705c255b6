package comments_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/servicetest"
)

// TestGetCommentKeepsItsErrorCodes: a missing comment, and one on a draft the caller cannot see, are not found;
// a database that does not answer is unavailable, never "not found" (an outage must not read as 404).
func TestGetCommentKeepsItsErrorCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := servicetest.New(t, dbtest.New(t), servicetest.Options{})
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	asAda := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID, Role: service.RoleUser})
	published, err := s.Posts.Create(asAda, service.CreatePostInput{Title: "T", Content: "C", Published: true})
	require.NoError(t, err)
	draft, err := s.Posts.Create(asAda, service.CreatePostInput{Title: "D", Content: "C"})
	require.NoError(t, err)
	onPublished, err := s.Comments.Create(asAda, published.ID, "seen")
	require.NoError(t, err)
	onDraft, err := s.Comments.Create(asAda, draft.ID, "unseen")
	require.NoError(t, err)

	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		id   uuid.UUID
		want service.Code
	}{
		{"missing", ctx, uuid.New(), service.ENOTFOUND},
		{"on a draft, anonymously", ctx, onDraft.ID, service.ENOTFOUND},
		{"the database does not answer in time", expired, onPublished.ID, service.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Comments.Get(tc.ctx, tc.id)
			require.Equal(t, tc.want, service.ErrorCode(err), "%v", err)
		})
	}
	c, err := s.Comments.Get(ctx, onPublished.ID)
	require.NoError(t, err)
	require.Equal(t, "seen", c.Content)
}

// TestByPostsWithAuthors: the comments with their authors in one read are ByPosts' comments, in the same order and
// limits, and the users service's authors; an anonymous caller is refused, as by Users.ByIDs.
func TestByPostsWithAuthors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := servicetest.New(t, dbtest.New(t), servicetest.Options{})
	var asUser []context.Context
	for _, name := range []string{"Ada", "Grace", "Alan"} {
		u, err := s.Users.Create(ctx, service.CreateUserInput{Name: name, Email: name + "@example.com", Password: "long enough"})
		require.NoError(t, err)
		asUser = append(asUser, service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: service.RoleUser}))
	}
	var posts []uuid.UUID
	for i := range 2 {
		p, err := s.Posts.Create(asUser[i], service.CreatePostInput{Title: "T", Content: "C", Published: true})
		require.NoError(t, err)
		posts = append(posts, p.ID)
		for j := range 5 {
			_, err := s.Comments.Create(asUser[j%3], p.ID, "c")
			require.NoError(t, err)
		}
	}
	for _, limit := range []int{1, 3, 20} {
		want, err := s.Comments.ByPosts(asUser[0], posts, limit)
		require.NoError(t, err)
		got, authors, err := s.Comments.ByPostsWithAuthors(asUser[0], posts, limit)
		require.NoError(t, err)
		require.Equal(t, want, got, "limit %d", limit)
		var authorIDs []uuid.UUID
		for _, cs := range got {
			for _, c := range cs {
				authorIDs = append(authorIDs, c.AuthorID)
			}
		}
		users, err := s.Users.ByIDs(asUser[0], authorIDs)
		require.NoError(t, err)
		require.Len(t, authors, len(users))
		for _, u := range users {
			require.Equal(t, u, authors[u.ID])
		}
	}
	_, _, err := s.Comments.ByPostsWithAuthors(ctx, posts, 20)
	require.Equal(t, service.EUNAUTHORIZED, service.ErrorCode(err), "users are for signed-in callers")
	_, _, err = s.Comments.ByPostsWithAuthors(asUser[0], posts, 0)
	require.Equal(t, service.EINVALID, service.ErrorCode(err))
}
