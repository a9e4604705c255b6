package service

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestRecheck: a session opened with Authenticate's Actor stands until its token expires, its user is deleted,
// a password reset voids its token (EUNAUTHORIZED), or its user's role changes (EFORBIDDEN).
func TestRecheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, s *Service, a *Actor)
		want   Code // "" for a session that stands
	}{
		{name: "unchanged"},
		{name: "expired", want: EUNAUTHORIZED, change: func(t *testing.T, _ *Service, a *Actor) {
			a.TokenExpiresAt = time.Now().Add(-time.Second)
		}},
		{name: "deleted", want: EUNAUTHORIZED, change: func(t *testing.T, s *Service, a *Actor) {
			_, err := s.pool.Exec(context.Background(), "DELETE FROM users WHERE id = $1", a.UserID)
			require.NoError(t, err)
		}},
		{name: "password reset after the token", want: EUNAUTHORIZED, change: func(t *testing.T, s *Service, a *Actor) {
			_, err := s.pool.Exec(context.Background(), "UPDATE users SET password_changed_at = now() + interval '2 seconds' WHERE id = $1", a.UserID)
			require.NoError(t, err)
		}},
		{name: "password reset in the token's second", change: func(t *testing.T, s *Service, a *Actor) {
			_, err := s.pool.Exec(context.Background(), "UPDATE users SET password_changed_at = $2 WHERE id = $1", a.UserID, a.TokenIssuedAt.Add(500*time.Millisecond))
			require.NoError(t, err)
		}},
		{name: "role changed", want: EFORBIDDEN, change: func(t *testing.T, s *Service, a *Actor) {
			_, err := s.pool.Exec(context.Background(), "UPDATE users SET role = 'admin' WHERE id = $1", a.UserID)
			require.NoError(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newTestService(t)
			ctx := context.Background()
			u, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
			require.NoError(t, err)
			token, err := s.tokens.Issue(u.ID.String())
			require.NoError(t, err)
			a, err := s.Authenticate(ctx, token)
			require.NoError(t, err)
			require.WithinDuration(t, time.Now().Add(time.Hour), a.TokenExpiresAt, 2*time.Second, "the Actor knows its token's expiry")
			require.WithinDuration(t, time.Now(), a.TokenIssuedAt, 2*time.Second)
			if tt.change != nil {
				tt.change(t, s, &a)
			}
			err = s.Recheck(ctx, a)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tt.want, ErrorCode(err), "%v", err)
		})
	}
}

// TestListenDeliversUserChangesInCommitOrder: a user change reaches the listener's deliver, after the
// authentication cache forgot the user, and before an event committed after it; a (re)connection is announced
// with EventResync.
func TestListenDeliversUserChangesInCommitOrder(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	s.authCache = newAuthCache(time.Hour, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan Event, 10)
	evictedFirst := make(chan bool, 10)
	go func() {
		_ = s.Listen(ctx, func(e Event) {
			if e.Kind == EventUserChanged {
				_, _, cached := s.authCache.get(e.ID)
				evictedFirst <- !cached
			}
			got <- e
		})
	}()
	select {
	case e := <-got:
		require.Equal(t, EventResync, e.Kind, "the listener announces that it (re)connected")
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never connected")
	}

	u, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	token, err := s.tokens.Issue(u.ID.String())
	require.NoError(t, err)
	_, err = s.Authenticate(ctx, token) // cached now
	require.NoError(t, err)
	for len(got) > 0 {
		<-got
	}
	_, err = s.pool.Exec(ctx, "DELETE FROM users WHERE id = $1", u.ID)
	require.NoError(t, err)
	after := Event{Kind: EventPostCreated, ID: u.ID}
	require.NoError(t, s.inTx(ctx, func(tx pgx.Tx) error { return s.notify(ctx, tx, after) }))

	for _, want := range []Event{{Kind: EventUserChanged, ID: u.ID}, after} {
		select {
		case e := <-got:
			require.Equal(t, want, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never arrived", want.Kind)
		}
	}
	require.True(t, <-evictedFirst, "the cache forgot the user before the change was delivered")
}
