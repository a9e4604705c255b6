// Package authcache remembers, for a few seconds, what authenticating a token needs to know of its user. The
// accounts service reads it, the users and accounts services evict what their writes change, and the listener
// turns it on only while it hears every instance's changes.
package authcache

import (
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/service"
)

// Cache remembers, for a few seconds, that a token's user exists, their role and since when their tokens
// count (see User), so that an
// authenticated request costs no query of its own. It is only trusted while the instance's listener is connected:
// the database announces every deletion and role change (a trigger on users) and the listener evicts the entry,
// so a deleted user's token stops working everywhere as soon as the deletion commits. While the listener is down
// the cache is off, and the TTL bounds an entry's life should an announcement ever be missed.
type Cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	on      bool
	gen     uint64 // bumped by every eviction: a lookup that raced one must not store what it read
	entries map[uuid.UUID]entry
}

type entry struct {
	user    User
	expires time.Time
}

// User is what authenticating a token needs to know of its user.
type User struct {
	Role service.Role
	// TokensAfter voids the tokens issued before it (a password reset); zero for none.
	TokensAfter time.Time
}

// New returns a cache of at most max entries; a ttl of 0 disables it.
func New(ttl time.Duration, max int) *Cache {
	return &Cache{ttl: ttl, max: max, now: time.Now, entries: map[uuid.UUID]entry{}}
}

// Get returns what is cached of user id, or false with the generation to hand to Put after reading the database.
func (c *Cache) Get(id uuid.UUID) (u User, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.ttl <= 0 {
		return User{}, c.gen, false
	}
	e, ok := c.entries[id]
	if !ok || !c.now().Before(e.expires) {
		return User{}, c.gen, false
	}
	return e.user, c.gen, true
}

// Put stores what was read for id unless an eviction happened since Get returned gen.
func (c *Cache) Put(id uuid.UUID, u User, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.ttl <= 0 || gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		clear(c.entries) // rare, and cheaper than tracking recency on every hit
	}
	c.entries[id] = entry{user: u, expires: c.now().Add(c.ttl)}
}

// Evict forgets id: the user was deleted, or their role or password changed.
func (c *Cache) Evict(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
}

// Trust turns the cache on while the listener is connected, and off (and empty) when it is not.
func (c *Cache) Trust(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.on = on
	clear(c.entries)
}

// Trusted reports whether the cache is on: whether the listener is connected.
func (c *Cache) Trusted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

// Reset forgets everyone, keeping the cache on: the listener heard of a change it could not attribute to a user.
func (c *Cache) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
