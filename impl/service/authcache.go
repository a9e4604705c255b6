package service

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// authCache remembers, for a few seconds, that a token's user exists, their role and since when their tokens
// count (see authUser), so that an
// authenticated request costs no query of its own. It is only trusted while the instance's listener is connected:
// the database announces every deletion and role change (a trigger on users) and the listener evicts the entry,
// so a deleted user's token stops working everywhere as soon as the deletion commits. While the listener is down
// the cache is off, and the TTL bounds an entry's life should an announcement ever be missed.
type authCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	on      bool
	gen     uint64 // bumped by every eviction: a lookup that raced one must not store what it read
	entries map[uuid.UUID]authEntry
}

type authEntry struct {
	user    authUser
	expires time.Time
}

// authUser is what authenticating a token needs to know of its user.
type authUser struct {
	role string
	// tokensAfter voids the tokens issued before it (a password reset); zero for none.
	tokensAfter time.Time
}

// newAuthCache returns a cache of at most max entries; a ttl of 0 disables it.
func newAuthCache(ttl time.Duration, max int) *authCache {
	return &authCache{ttl: ttl, max: max, now: time.Now, entries: map[uuid.UUID]authEntry{}}
}

// get returns what is cached of user id, or false with the generation to hand to put after reading the database.
func (c *authCache) get(id uuid.UUID) (u authUser, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.ttl <= 0 {
		return authUser{}, c.gen, false
	}
	e, ok := c.entries[id]
	if !ok || !c.now().Before(e.expires) {
		return authUser{}, c.gen, false
	}
	return e.user, c.gen, true
}

// put stores what was read for id unless an eviction happened since get returned gen.
func (c *authCache) put(id uuid.UUID, u authUser, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.ttl <= 0 || gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		clear(c.entries) // rare, and cheaper than tracking recency on every hit
	}
	c.entries[id] = authEntry{user: u, expires: c.now().Add(c.ttl)}
}

// evict forgets id: the user was deleted, or their role or password changed.
func (c *authCache) evict(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
}

// trust turns the cache on while the listener is connected, and off (and empty) when it is not.
func (c *authCache) trust(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.on = on
	clear(c.entries)
}
