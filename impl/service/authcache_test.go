package service

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestAuthCache(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	now := time.Now()
	fresh := func() *authCache {
		c := newAuthCache(10*time.Second, 2)
		c.now = func() time.Time { return now }
		c.trust(true)
		return c
	}
	tests := []struct {
		name string
		act  func(c *authCache)
		hit  bool
	}{
		{"a stored entry is found", func(c *authCache) { _, gen, _ := c.get(id); c.put(id, authUser{role: "admin"}, gen) }, true},
		{"not while the listener is down", func(c *authCache) { _, gen, _ := c.get(id); c.put(id, authUser{role: "admin"}, gen); c.trust(false) }, false},
		{"not what was stored while it was down", func(c *authCache) { c.trust(false); _, gen, _ := c.get(id); c.put(id, authUser{role: "admin"}, gen) }, false},
		{"not after an eviction", func(c *authCache) { _, gen, _ := c.get(id); c.put(id, authUser{role: "admin"}, gen); c.evict(id) }, false},
		{"not what a lookup read before an eviction", func(c *authCache) { _, gen, _ := c.get(id); c.evict(id); c.put(id, authUser{role: "admin"}, gen) }, false},
		{"not after its TTL", func(c *authCache) {
			_, gen, _ := c.get(id)
			c.put(id, authUser{role: "admin"}, gen)
			c.now = func() time.Time { return now.Add(10 * time.Second) }
		}, false},
		{"not with a TTL of 0", func(c *authCache) { c.ttl = 0; _, gen, _ := c.get(id); c.put(id, authUser{role: "admin"}, gen) }, false},
		{"a full cache starts over", func(c *authCache) {
			for range 3 {
				_, gen, _ := c.get(id)
				c.put(uuid.New(), authUser{role: "user"}, gen)
			}
			require.LessOrEqual(t, len(c.entries), 2)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fresh()
			tt.act(c)
			u, _, ok := c.get(id)
			require.Equal(t, tt.hit, ok)
			if ok {
				require.Equal(t, "admin", u.role)
			}
		})
	}
}

// TestAuthCacheHearsOfDeletions: a user deleted behind the service's back (another instance, an operator's SQL)
// stops authenticating as soon as the deletion commits, though the cache had them; a role change and a password
// change are heard the same way.
func TestAuthCacheHearsOfDeletions(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	s.authCache = newAuthCache(time.Hour, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Listen(ctx, func(Event) {}) }()
	require.Eventually(t, func() bool { s.authCache.mu.Lock(); defer s.authCache.mu.Unlock(); return s.authCache.on }, 10*time.Second, 10*time.Millisecond)

	u, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	token, err := s.tokens.Issue(u.ID.String())
	require.NoError(t, err)
	a, err := s.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, RoleUser, a.Role)
	_, _, cached := s.authCache.get(u.ID)
	require.True(t, cached)

	_, err = s.pool.Exec(ctx, "UPDATE users SET role = 'admin' WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { a, err := s.Authenticate(ctx, token); return err == nil && a.Role == RoleAdmin }, 5*time.Second, 10*time.Millisecond,
		"a role change is heard")

	_, err = s.pool.Exec(ctx, "UPDATE users SET password_changed_at = now() + interval '1 hour' WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, err := s.Authenticate(ctx, token); return ErrorCode(err) == EUNAUTHORIZED }, 5*time.Second, 10*time.Millisecond,
		"a password change is heard: the tokens issued before it stop working")
	_, err = s.pool.Exec(ctx, "UPDATE users SET password_changed_at = NULL WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, err := s.Authenticate(ctx, token); return err == nil }, 5*time.Second, 10*time.Millisecond)

	_, err = s.pool.Exec(ctx, "DELETE FROM users WHERE id = $1", u.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, err := s.Authenticate(ctx, token); return ErrorCode(err) == EUNAUTHORIZED }, 5*time.Second, 10*time.Millisecond,
		"a deletion is heard")

	// Without the listener the cache is off: nothing is remembered.
	cancel()
	require.Eventually(t, func() bool { s.authCache.mu.Lock(); defer s.authCache.mu.Unlock(); return !s.authCache.on }, 10*time.Second, 10*time.Millisecond)
	u2, err := s.CreateUser(context.Background(), CreateUserInput{Name: "Grace", Email: "grace@example.com", Password: "long enough"})
	require.NoError(t, err)
	token2, err := s.tokens.Issue(u2.ID.String())
	require.NoError(t, err)
	_, err = s.Authenticate(context.Background(), token2)
	require.NoError(t, err)
	_, _, cached = s.authCache.get(u2.ID)
	require.False(t, cached)
}
