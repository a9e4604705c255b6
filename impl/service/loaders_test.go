package service

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestGetCommentKeepsItsErrorCodes: a missing comment, and one on a draft the caller cannot see, are not found;
// a database that does not answer is unavailable, never "not found" (an outage must not read as 404).
func TestGetCommentKeepsItsErrorCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newTestService(t)
	ada, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	asAda := NewContextWithActor(ctx, Actor{UserID: ada.ID, Role: RoleUser})
	published, err := s.CreatePost(asAda, CreatePostInput{Title: "T", Content: "C", Published: true})
	require.NoError(t, err)
	draft, err := s.CreatePost(asAda, CreatePostInput{Title: "D", Content: "C"})
	require.NoError(t, err)
	onPublished, err := s.CreateComment(asAda, published.ID, "seen")
	require.NoError(t, err)
	onDraft, err := s.CreateComment(asAda, draft.ID, "unseen")
	require.NoError(t, err)

	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		id   uuid.UUID
		want Code
	}{
		{"missing", ctx, uuid.New(), ENOTFOUND},
		{"on a draft, anonymously", ctx, onDraft.ID, ENOTFOUND},
		{"the database does not answer in time", expired, onPublished.ID, EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetComment(tc.ctx, tc.id)
			require.Equal(t, tc.want, ErrorCode(err), "%v", err)
		})
	}
	c, err := s.GetComment(ctx, onPublished.ID)
	require.NoError(t, err)
	require.Equal(t, "seen", c.Content)
}
