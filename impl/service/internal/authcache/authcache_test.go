package authcache

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/service"
)

func TestAuthCache(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	now := time.Now()
	fresh := func() *Cache {
		c := New(10*time.Second, 2)
		c.now = func() time.Time { return now }
		c.Trust(true)
		return c
	}
	tests := []struct {
		name string
		act  func(c *Cache)
		hit  bool
	}{
		{"a stored entry is found", func(c *Cache) { _, gen, _ := c.Get(id); c.Put(id, User{Role: service.RoleAdmin}, gen) }, true},
		{"not while the listener is down", func(c *Cache) { _, gen, _ := c.Get(id); c.Put(id, User{Role: service.RoleAdmin}, gen); c.Trust(false) }, false},
		{"not what was stored while it was down", func(c *Cache) { c.Trust(false); _, gen, _ := c.Get(id); c.Put(id, User{Role: service.RoleAdmin}, gen) }, false},
		{"not after an eviction", func(c *Cache) { _, gen, _ := c.Get(id); c.Put(id, User{Role: service.RoleAdmin}, gen); c.Evict(id) }, false},
		{"not what a lookup read before an eviction", func(c *Cache) { _, gen, _ := c.Get(id); c.Evict(id); c.Put(id, User{Role: service.RoleAdmin}, gen) }, false},
		{"not after its TTL", func(c *Cache) {
			_, gen, _ := c.Get(id)
			c.Put(id, User{Role: service.RoleAdmin}, gen)
			c.now = func() time.Time { return now.Add(10 * time.Second) }
		}, false},
		{"not with a TTL of 0", func(c *Cache) { c.ttl = 0; _, gen, _ := c.Get(id); c.Put(id, User{Role: service.RoleAdmin}, gen) }, false},
		{"a full cache starts over", func(c *Cache) {
			for range 3 {
				_, gen, _ := c.Get(id)
				c.Put(uuid.New(), User{Role: service.RoleUser}, gen)
			}
			require.LessOrEqual(t, len(c.entries), 2)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fresh()
			tt.act(c)
			u, _, ok := c.Get(id)
			require.Equal(t, tt.hit, ok)
			if ok {
				require.Equal(t, service.RoleAdmin, u.Role)
			}
		})
	}
}
