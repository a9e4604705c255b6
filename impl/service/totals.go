package service

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
)

// The lists whose totals are cached, as key prefixes: a write forgets every total of its list.
const (
	totalsUsers = "users\x00"
	totalsPosts = "posts\x00"
)

// totals remembers list totals for a short while. An exact count(*) costs as much as the rows it counts (10–60 ms
// over 100k users or 350k published posts) while the page itself is a short index walk, and paging through a
// result asks for the same total again and again. A total may therefore lag other instances' writes by up to
// twice the TTL (see get); this instance's own writes forget the totals they change. Concurrent misses of one key
// share one count.
type totals struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by forget: a count that began before a write must not be stored after it
	entries map[string]totalEntry
	group   singleflight.Group
}

type totalEntry struct {
	n       int64
	expires time.Time
}

// newTotals returns a cache of at most max totals; a ttl of 0 counts every time.
func newTotals(ttl time.Duration, max int) *totals {
	return &totals{ttl: ttl, max: max, now: time.Now, entries: map[string]totalEntry{}}
}

// get returns the total for key. A fresh total (younger than the TTL) is returned as is; a stale one (younger
// than twice the TTL) too, while one count in the background replaces it, so that no request waits for a recount
// of a list in steady use; otherwise the caller counts, sharing the count with concurrent callers.
func (t *totals) get(ctx context.Context, key string, count func(context.Context) (int64, error)) (int64, error) {
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

// count counts key's list and keeps the total, unless a write forgot the list meanwhile.
func (t *totals) count(ctx context.Context, key string, count func(context.Context) (int64, error)) (int64, error) {
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

// forget drops every total whose key starts with prefix: a write changed that list.
func (t *totals) forget(prefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	for k := range t.entries {
		if strings.HasPrefix(k, prefix) {
			delete(t.entries, k)
		}
	}
}

// totalKey joins a list's prefix and the filters its count depends on.
func totalKey(prefix string, filters ...string) string {
	return prefix + strings.Join(filters, "\x00")
}

func filterKey[T any](v *T, format func(T) string) string {
	if v == nil {
		return "-"
	}
	return "=" + format(*v)
}

// countUsers counts the users matching pattern (nil: all), through the totals cache.
func (s *Service) countUsers(ctx context.Context, pattern *string) (int64, error) {
	key := totalKey(totalsUsers, filterKey(pattern, func(p string) string { return p }))
	return s.totals.get(ctx, key, func(ctx context.Context) (int64, error) {
		return s.queries.UserCount(ctx, postgres.CustomPlans(s.pool), pattern)
	})
}

// countPosts counts the posts p selects, through the totals cache.
func (s *Service) countPosts(ctx context.Context, p db.PostCountParams) (int64, error) {
	viewer := filterKey(p.Viewer, uuid.UUID.String)
	if p.Published != nil && *p.Published {
		viewer = "*" // only published posts: every viewer sees the same total
	}
	key := totalKey(totalsPosts, viewer, filterKey(p.Published, strconv.FormatBool),
		filterKey(p.AuthorID, uuid.UUID.String), filterKey(p.Pattern, func(p string) string { return p }))
	return s.totals.get(ctx, key, func(ctx context.Context) (int64, error) {
		return s.queries.PostCount(ctx, postgres.CustomPlans(s.pool), p)
	})
}
