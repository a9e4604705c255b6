package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/servicetest"
)

// TestWritesNotifyAsBeforeWhoeverListensToWebhooks: a write that publishes a webhook and notifies the listener in
// one statement (PublishNotify) notifies exactly as a Notify of its own did: whether or not any endpoint takes
// the event, never for a draft's comment, and never when the write rolls back.
func TestWritesNotifyAsBeforeWhoeverListensToWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	s := servicetest.New(t, pool, servicetest.Options{Jobs: inserter})
	c := core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil)))

	listener, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer listener.Release()
	_, err = listener.Exec(ctx, "LISTEN junction_events")
	require.NoError(t, err)
	heard := func() []service.Event {
		t.Helper()
		var out []service.Event
		for {
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			n, err := listener.Conn().WaitForNotification(wctx)
			cancel()
			if err != nil {
				require.ErrorIs(t, err, context.DeadlineExceeded)
				return out
			}
			var e service.Event
			require.NoError(t, json.Unmarshal([]byte(n.Payload), &e))
			out = append(out, e)
		}
	}
	counts := func() (messages, fanOuts int) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM webhook_messages), (SELECT count(*) FROM river_job WHERE kind = 'webhook_fanout')").Scan(&messages, &fanOuts))
		return messages, fanOuts
	}
	user := func(name string) context.Context {
		u, err := s.Users.Create(ctx, service.CreateUserInput{Name: name, Email: name + "@example.com", Password: "long enough"})
		require.NoError(t, err)
		return service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: service.RoleUser})
	}
	ada, grace := user("ada"), user("grace")
	heard()

	// Nobody listens to webhooks.
	p, err := s.Posts.Create(ada, service.CreatePostInput{Title: "One", Content: "x", Published: true})
	require.NoError(t, err)
	require.Equal(t, []service.Event{{Kind: service.EventPostCreated, ID: p.ID, PostID: p.ID}}, heard())
	cm, err := s.Comments.Create(grace, p.ID, "hello")
	require.NoError(t, err)
	require.Equal(t, []service.Event{{Kind: service.EventCommentAdded, ID: cm.ID, PostID: p.ID}}, heard())
	m, f := counts()
	require.Zero(t, m)
	require.Zero(t, f)

	// Ada listens to her posts and their comments now.
	_, err = s.Endpoints.Create(ada, service.CreateWebhookEndpointInput{URL: "https://93.184.216.34/hooks", EventTypes: []service.WebhookEventType{service.WebhookPostPublished, service.WebhookCommentCreated}})
	require.NoError(t, err)
	p2, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Two", Content: "x", Published: true})
	require.NoError(t, err)
	require.Equal(t, []service.Event{{Kind: service.EventPostCreated, ID: p2.ID, PostID: p2.ID}}, heard())
	cm2, err := s.Comments.Create(grace, p2.ID, "hello")
	require.NoError(t, err)
	require.Equal(t, []service.Event{{Kind: service.EventCommentAdded, ID: cm2.ID, PostID: p2.ID}}, heard())
	m, f = counts()
	require.Equal(t, 2, m)
	require.Equal(t, 2, f)

	// A draft, and its author's comment on it: webhooks for Ada's endpoint (private), nothing for subscribers.
	draft, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Draft", Content: "x"})
	require.NoError(t, err)
	_, err = s.Comments.Create(ada, draft.ID, "note to self")
	require.NoError(t, err)
	require.Empty(t, heard())
	var private bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT private FROM webhook_messages WHERE type = 'comment.created' ORDER BY created_at DESC LIMIT 1").Scan(&private))
	require.True(t, private)

	// Rolled back: neither the notification nor the webhook.
	boom := errors.New("boom")
	for _, listened := range []bool{true, false} {
		owner := p2.AuthorID
		if !listened {
			owner = cm.AuthorID // grace: no endpoint
		}
		err = c.InTx(ctx, func(tx pgx.Tx) error {
			if err := c.PublishNotify(ctx, tx, service.WebhookMessage{Type: service.WebhookPostPublished, OwnerID: &owner, Data: p2},
				service.Event{Kind: service.EventPostCreated, ID: p2.ID, PostID: p2.ID}); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Empty(t, heard())
		m, f = counts()
		require.Equal(t, 3, m)
		require.Equal(t, 3, f)
	}
}
