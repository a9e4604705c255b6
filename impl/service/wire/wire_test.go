package wire_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/servicetest"
)

// TestListTotalsForgottenOnEveryInstance: two instances over one database, each remembering totals for an hour.
// A write committed through one makes the other forget the totals it changed as soon as its listener hears of
// it (the TTL never runs out here), whatever the write: a sign-up, a published post, a draft published, a user
// deleted with their posts. A write that sends nothing (triggers off) shows that the other instance does
// remember. "As soon as it hears" is checked exactly: a probe event committed after the write reaches a's
// listener after the write's notification (commit order, one connection), so once a has heard the probe its
// totals must be right, with no waiting.
func TestListTotalsForgottenOnEveryInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a := servicetest.New(t, pool, servicetest.Options{ListTotalTTL: time.Hour})
	b := servicetest.New(t, pool, servicetest.Options{ListTotalTTL: time.Hour})
	signUp := func(s *wire.Services, name string) context.Context {
		t.Helper()
		u, err := s.Users.Create(ctx, service.CreateUserInput{Name: name, Email: name + "@example.com", Password: "long enough"})
		require.NoError(t, err)
		return service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: service.RoleUser})
	}
	probes := make(chan uuid.UUID, 16)
	a.Listener.Handle(func(_ context.Context, e service.Event) {
		if e.Kind == "probe" {
			probes <- e.ID
		}
	})
	// heard returns once a's listener has handled every notification committed before it was called.
	heard := func() {
		t.Helper()
		id := uuid.New()
		_, err := pool.Exec(ctx, "SELECT pg_notify('junction_events', $1)", fmt.Sprintf(`{"kind":"probe","id":%q}`, id))
		require.NoError(t, err)
		for {
			select {
			case got := <-probes:
				if got == id {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a's listener did not hear the probe")
			}
		}
	}
	ada := signUp(a, "ada")
	heard() // a's own notification too: from here on, a's totals change only with what it hears
	users := func() int64 {
		n, err := a.Users.Count(ada, "")
		require.NoError(t, err)
		return n
	}
	published := func() int64 {
		n, err := a.Posts.Count(ctx, new(true))
		require.NoError(t, err)
		return n
	}
	afterHearing := func(want int64, total func() int64, msg string) {
		t.Helper()
		heard()
		require.Equal(t, want, total(), msg)
	}
	require.EqualValues(t, 1, users())
	require.EqualValues(t, 0, published())

	// Unheard: a's totals stay as they were.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SET LOCAL session_replication_role = replica") // no trigger fires
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "INSERT INTO users (name, email, password_hash) VALUES ('Quiet', 'quiet@example.com', 'x')")
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	afterHearing(1, users, "a remembers its total while it hears nothing")

	grace := signUp(b, "grace")
	afterHearing(3, users, "b's sign-up: a forgets its user totals")
	_, err = b.Posts.Create(grace, service.CreatePostInput{Title: "Notes", Content: "x", Published: true})
	require.NoError(t, err)
	afterHearing(1, published, "b's published post: a forgets its post totals")
	_, err = b.Posts.Create(grace, service.CreatePostInput{Title: "Draft", Content: "x"})
	require.NoError(t, err)
	draft, err := b.Posts.Create(grace, service.CreatePostInput{Title: "Later", Content: "x"})
	require.NoError(t, err)
	_, err = b.Posts.Publish(grace, draft.ID, service.MatchAny())
	require.NoError(t, err)
	afterHearing(2, published, "b publishes a draft")

	g, ok := service.ActorFromContext(grace)
	require.True(t, ok)
	require.NoError(t, b.Users.Delete(grace, g.UserID, service.MatchAny()))
	afterHearing(2, users, "b deletes a user")
	afterHearing(0, published, "and with them their posts")
}

// BenchmarkWriteNotifiesTotals is what telling every instance costs a write: a post written with the triggers
// of migrations/00017 and without them, four writers per core; a draft sent no NOTIFY before its table's trigger
// did, a published post sent one already (its subscription event). Run it against a durable cluster too: a
// transaction that notifies holds PostgreSQL's notify-queue lock through its commit's flush, so notifying commits
// are flushed one at a time.
func BenchmarkWriteNotifiesTotals(b *testing.B) {
	for _, published := range []bool{false, true} {
		for _, triggers := range []bool{true, false} {
			b.Run(fmt.Sprintf("published=%t/triggers=%t", published, triggers), func(b *testing.B) {
				ctx := context.Background()
				pool := dbtest.New(b)
				if !triggers {
					_, err := pool.Exec(ctx, "DROP TRIGGER posts_totals_notify ON posts")
					require.NoError(b, err)
				}
				s := servicetest.New(b, pool, servicetest.Options{})
				u, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
				require.NoError(b, err)
				actor := service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: service.RoleUser})
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.Posts.Create(actor, service.CreatePostInput{Title: "Post", Content: "x", Published: published}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
