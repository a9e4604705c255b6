// Package totals remembers list totals briefly, for the users and posts services; the listener makes it forget
// what other instances' writes change.
package totals

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// The lists whose totals are cached, as key prefixes: a write forgets every total of its list.
const (
	Users = "users\x00"
	Posts = "posts\x00"
)

// Cache remembers list totals for a short while. An exact count(*) costs as much as the rows it counts (10–60 ms
// over 100k users or 350k published posts) while the page itself is a short index walk, and paging through a
// result asks for the same total again and again. This instance's own writes forget the totals they change; every
// instance's committed writes reach every instance's listener (triggers on users and posts, NOTIFY sent on
// commit), which forgets them too, as soon as it hears. Only while the listener is down can a total lag another
// instance's write, by up to twice the TTL (see Get); it forgets everything when it reconnects. Concurrent misses
// of one key share one count, and a count that began before a Forget is not kept.
type Cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by Forget: a count that began before a write must not be stored after it
	entries map[string]totalEntry
	group   singleflight.Group
}

type totalEntry struct {
	n       int64
	expires time.Time
}

// New returns a cache of at most max totals, telling their age by now; a ttl of 0 counts every time.
func New(ttl time.Duration, max int, now func() time.Time) *Cache {
	return &Cache{ttl: ttl, max: max, now: now, entries: map[string]totalEntry{}}
}

// Get returns the total for key. A fresh total (younger than the TTL) is returned as is; a stale one (younger
// than twice the TTL) too, while one count in the background replaces it, so that no request waits for a recount
// of a list in steady use; otherwise the caller counts, sharing the count with concurrent callers.
func (t *Cache) Get(ctx context.Context, key string, count func(context.Context) (int64, error)) (int64, error) {
	if t.ttl <= 0 {
		return count(ctx)
	}
	t.mu.Lock()
	e, ok := t.entries[key]
	t.mu.Unlock()
	now := t.now()
	switch {
	case ok && now.Before(e.expires):
		return e.n, nil
	case ok && now.Before(e.expires.Add(t.ttl)):
		// The request may end before the count does; the count is bounded by the statement timeout.
		t.group.DoChan(key, func() (any, error) { return t.count(context.WithoutCancel(ctx), key, count) })
		return e.n, nil
	}
	v, err, _ := t.group.Do(key, func() (any, error) { return t.count(ctx, key, count) })
	return v.(int64), err
}

// Peek returns the total for key when the cache holds one young enough for Get to return (younger than twice the
// TTL), without counting. A caller may use it as a hint, never as the answer: it can lag the list.
func (t *Cache) Peek(key string) (int64, bool) {
	if t.ttl <= 0 {
		return 0, false
	}
	t.mu.Lock()
	e, ok := t.entries[key]
	t.mu.Unlock()
	if !ok || !t.now().Before(e.expires.Add(t.ttl)) {
		return 0, false
	}
	return e.n, true
}

// count counts key's list and keeps the total, unless a write forgot the list meanwhile.
func (t *Cache) count(ctx context.Context, key string, count func(context.Context) (int64, error)) (int64, error) {
	t.mu.Lock()
	gen := t.gen
	t.mu.Unlock()
	n, err := count(ctx)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		return n, nil
	}
	if len(t.entries) >= t.max {
		clear(t.entries)
	}
	t.entries[key] = totalEntry{n: n, expires: t.now().Add(t.ttl)}
	return n, nil
}

// Forget drops every total whose key starts with prefix: a write changed that list.
func (t *Cache) Forget(prefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	for k := range t.entries {
		if strings.HasPrefix(k, prefix) {
			delete(t.entries, k)
		}
	}
}

// Key joins a list's prefix and the filters its count depends on.
func Key(prefix string, filters ...string) string {
	return prefix + strings.Join(filters, "\x00")
}

// Filter is a filter's part of a key: "-" when it is unset.
func Filter[T any](v *T, format func(T) string) string {
	if v == nil {
		return "-"
	}
	return "=" + format(*v)
}
