package listener

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/accounts"
	"github.com/junction-dev/junction/impl/service/internal/authcache"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/service/internal/totals"
	"github.com/junction-dev/junction/impl/service/users"
)

// fixture is a listener with the services its tests write through, on a fresh database.
type fixture struct {
	pool     *pgxpool.Pool
	core     *core.Core
	cache    *authcache.Cache
	l        *Listener
	users    *users.Service
	accounts *accounts.Service
	tokens   *auth.Tokens
}

func newFixture(t *testing.T, cacheTTL time.Duration) *fixture {
	t.Helper()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	secret := []byte("a test secret that is 32 bytes long")
	tokens, err := auth.NewTokens(secret, "junction", "junction-api", time.Hour)
	require.NoError(t, err)
	sealer, err := auth.NewSealer(secret)
	require.NoError(t, err)
	c := core.New(pool, inserter, apimodel.EncodeWebhook, logger)
	cache := authcache.New(cacheTTL, 100)
	hasher := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	f := &fixture{
		pool: pool, core: c, cache: cache, l: New(pool, cache, totals.New(0, 1, time.Now), logger), tokens: tokens,
		users:    users.New(c, hasher, cache, totals.New(0, 1, time.Now)),
		accounts: accounts.New(c, accounts.Deps{Hasher: hasher, Tokens: tokens, Sealer: sealer, Cache: cache}),
	}
	t.Cleanup(func() { require.NoError(t, f.l.Stop(context.Background())) })
	return f
}

// listen starts the listener with h as its handler.
func (f *fixture) listen(t *testing.T, h Handler) {
	t.Helper()
	f.l.Handle(h)
	require.NoError(t, f.l.Start(context.Background()))
}

// TestEventsFireOnCommitOnly: an event sent in a transaction that rolls back never reaches a listener; one sent
// in a transaction that commits does.
func TestEventsFireOnCommitOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	got := make(chan service.Event, 10)
	f.listen(t, func(_ context.Context, e service.Event) {
		if e.Kind != service.EventResync && e.Kind != service.EventUserChanged { // the listener's own, for sessions
			got <- e
		}
	})

	// Wait until the listener is up: committed probes until one arrives.
	probe := service.Event{Kind: "probe", ID: uuid.New()}
	require.Eventually(t, func() bool {
		require.NoError(t, f.core.InTx(ctx, func(tx pgx.Tx) error { return f.core.Notify(ctx, tx, probe) }))
		select {
		case <-got:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	}, 10*time.Second, 10*time.Millisecond)
	for len(got) > 0 {
		<-got
	}

	rolledBack := service.Event{Kind: service.EventPostCreated, ID: uuid.New()}
	boom := errors.New("boom")
	err := f.core.InTx(ctx, func(tx pgx.Tx) error {
		if err := f.core.Notify(ctx, tx, rolledBack); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	committed := service.Event{Kind: service.EventPostCreated, ID: uuid.New()}
	require.NoError(t, f.core.InTx(ctx, func(tx pgx.Tx) error { return f.core.Notify(ctx, tx, committed) }))

	select {
	case e := <-got:
		require.Equal(t, committed, e, "the first event after the rollback is the committed one")
	case <-time.After(10 * time.Second):
		t.Fatal("the committed event never arrived")
	}
}

// TestListenDeliversUserChangesInCommitOrder: a user change reaches the listener's deliver, after the
// authentication cache forgot the user, and before an event committed after it; a (re)connection is announced
// with service.EventResync.
func TestListenDeliversUserChangesInCommitOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := context.Background()
	got := make(chan service.Event, 10)
	evictedFirst := make(chan bool, 10)
	f.listen(t, func(_ context.Context, e service.Event) {
		if e.Kind == service.EventUserChanged {
			_, _, cached := f.cache.Get(e.ID)
			evictedFirst <- !cached
		}
		got <- e
	})
	select {
	case e := <-got:
		require.Equal(t, service.EventResync, e.Kind, "the listener announces that it (re)connected")
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never connected")
	}

	u, err := f.users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	token, err := f.tokens.Issue(u.ID.String())
	require.NoError(t, err)
	_, err = f.accounts.Authenticate(ctx, token) // cached now
	require.NoError(t, err)
	for len(got) > 0 {
		<-got
	}
	_, err = f.pool.Exec(ctx, "DELETE FROM users WHERE id = $1", u.ID)
	require.NoError(t, err)
	after := service.Event{Kind: service.EventPostCreated, ID: u.ID}
	require.NoError(t, f.core.InTx(ctx, func(tx pgx.Tx) error { return f.core.Notify(ctx, tx, after) }))

	for _, want := range []service.Event{{Kind: service.EventUserChanged, ID: u.ID}, after} {
		select {
		case e := <-got:
			require.Equal(t, want, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never arrived", want.Kind)
		}
	}
	require.True(t, <-evictedFirst, "the cache forgot the user before the change was delivered")
}

// TestAuthCacheHearsOfDeletions: a user deleted behind the service's back (another instance, an operator's SQL)
// stops authenticating as soon as the deletion commits, though the cache had them; a role change and a password
// change are heard the same way.
func TestAuthCacheHearsOfDeletions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := context.Background()
	f.listen(t, func(context.Context, service.Event) {})
	require.Eventually(t, f.cache.Trusted, 10*time.Second, 10*time.Millisecond)

	u, err := f.users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	token, err := f.tokens.Issue(u.ID.String())
	require.NoError(t, err)
	a, err := f.accounts.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, service.RoleUser, a.Role)
	_, _, cached := f.cache.Get(u.ID)
	require.True(t, cached)

	_, err = f.pool.Exec(ctx, "UPDATE users SET role = 'admin' WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		a, err := f.accounts.Authenticate(ctx, token)
		return err == nil && a.Role == service.RoleAdmin
	}, 5*time.Second, 10*time.Millisecond,
		"a role change is heard")

	_, err = f.pool.Exec(ctx, "UPDATE users SET password_changed_at = now() + interval '1 hour' WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := f.accounts.Authenticate(ctx, token)
		return service.ErrorCode(err) == service.EUNAUTHORIZED
	}, 5*time.Second, 10*time.Millisecond,
		"a password change is heard: the tokens issued before it stop working")
	_, err = f.pool.Exec(ctx, "UPDATE users SET password_changed_at = NULL WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, err := f.accounts.Authenticate(ctx, token); return err == nil }, 5*time.Second, 10*time.Millisecond)

	_, err = f.pool.Exec(ctx, "DELETE FROM users WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := f.accounts.Authenticate(ctx, token)
		return service.ErrorCode(err) == service.EUNAUTHORIZED
	}, 5*time.Second, 10*time.Millisecond,
		"a deletion is heard")

	// Without the listener the cache is off: nothing is remembered.
	require.NoError(t, f.l.Stop(ctx))
	require.Eventually(t, func() bool { return !f.cache.Trusted() }, 10*time.Second, 10*time.Millisecond)
	u2, err := f.users.Create(context.Background(), service.CreateUserInput{Name: "Grace", Email: "grace@example.com", Password: "long enough"})
	require.NoError(t, err)
	token2, err := f.tokens.Issue(u2.ID.String())
	require.NoError(t, err)
	_, err = f.accounts.Authenticate(context.Background(), token2)
	require.NoError(t, err)
	_, _, cached = f.cache.Get(u2.ID)
	require.False(t, cached)
}
