package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Store counts requests against a [Policy] per key. Allow spends one unit of key's quota when one is left.
type Store interface {
	Allow(ctx context.Context, p Policy, key string) (Decision, error)
}

// Memory is a [Store] in this process's memory, with the generic cell rate algorithm (GCRA): a key may spend its
// whole quota at once, and then earns one unit back every Window/Quota. Unlike fixed windows it never lets twice
// the quota through across a window's edge, and it keeps one timestamp per key. Limits kept here are per
// instance.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [memoryShards]memoryShard
	// perShard bounds each shard's keys; beyond it, new keys share one overflow key (see Allow).
	perShard int
}

const memoryShards = 64

type memoryShard struct {
	mu sync.Mutex
	// tat is each key's theoretical arrival time: when it would have spent nothing of its quota.
	tat map[string]time.Time
	// sweepAt is the size at which the next insert first forgets keys whose quota is whole again.
	sweepAt int
}

// overflowKey is where the keys that find their shard full are counted together: under a flood of distinct
// clients the limiter's memory stays bounded, and new clients are limited as one rather than not at all.
const overflowKey = "\x00overflow"

// NewMemory returns a Memory holding at most maxKeys keys (about 120 bytes each); now is the clock (time.Now).
func NewMemory(maxKeys int, now func() time.Time) *Memory {
	m := &Memory{now: now, seed: maphash.MakeSeed(), perShard: max(1, maxKeys/memoryShards)}
	for i := range m.shards {
		m.shards[i].tat = map[string]time.Time{}
		m.shards[i].sweepAt = min(1024, m.perShard)
	}
	return m
}

// Allow implements [Store].
func (m *Memory) Allow(_ context.Context, p Policy, key string) (Decision, error) {
	key = p.Name + "\x00" + key
	now := m.now()
	s := &m.shards[maphash.String(m.seed, key)%memoryShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, ok := s.tat[key]
	if !ok && len(s.tat) >= s.sweepAt {
		s.sweep(now)
		if len(s.tat) >= m.perShard {
			key = overflowKey + p.Name
			tat = s.tat[key]
		} else {
			s.sweepAt = min(max(s.sweepAt, 2*len(s.tat)), m.perShard)
		}
	}
	d, next := gcra(p, tat, now)
	if d.Allowed {
		s.tat[key] = next
	}
	return d, nil
}

// sweep forgets the keys whose quota is whole again: they are indistinguishable from keys never seen.
func (s *memoryShard) sweep(now time.Time) {
	for k, tat := range s.tat {
		if !tat.After(now) {
			delete(s.tat, k)
		}
	}
}

// gcra decides one request at now for a key whose theoretical arrival time is tat, and returns the decision and
// the key's next tat (to store when allowed).
func gcra(p Policy, tat, now time.Time) (Decision, time.Time) {
	interval := max(p.Window/time.Duration(p.Quota), 1) // a quota beyond one a nanosecond is one a nanosecond
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	allowAt := next.Add(-p.Window)
	if now.Before(allowAt) {
		return Decision{Policy: p, Remaining: 0, Reset: tat.Sub(now), RetryAfter: allowAt.Sub(now)}, tat
	}
	return Decision{Policy: p, Allowed: true, Remaining: int(now.Sub(allowAt) / interval), Reset: next.Sub(now)}, next
}
