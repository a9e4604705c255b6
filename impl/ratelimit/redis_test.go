package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/redistest"
)

// TestRedisDecidesAsMemory: for the same requests, a Redis store decides what a Memory decides, remaining quota
// included, also where the interval is no whole number of microseconds (redis_rate's own Remaining is one short
// there). Redis's clock runs while the requests are made, so its durations are the Memory's less at most the time
// the sequence took.
func TestRedisDecidesAsMemory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		policy   ratelimit.Policy
		requests int
	}{
		{"one a minute", ratelimit.Policy{Name: "one", Quota: 1, Window: time.Minute}, 3},
		{"ten a minute, one back every 6 s", ratelimit.Policy{Name: "ten", Quota: 10, Window: time.Minute}, 12},
		{"seven a minute, one back every 8.571428571 s", ratelimit.Policy{Name: "seven", Quota: 7, Window: time.Minute}, 9},
		{"twenty a minute", ratelimit.Policy{Name: "twenty", Quota: 20, Window: time.Minute}, 22},
		{"five an hour", ratelimit.Policy{Name: "hourly", Quota: 5, Window: time.Hour}, 7},
	}
	r := startRedis(t, ratelimit.RedisConfig{URL: redistest.URL(t), Prefix: redistest.Prefix()})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mem := ratelimit.NewMemory(1000, newClock().Now)
			start := time.Now()
			var got []ratelimit.Decision
			for range tt.requests {
				d, err := r.Allow(ctx, tt.policy, "198.51.100.7")
				require.NoError(t, err)
				got = append(got, d)
			}
			took := time.Since(start)
			require.Less(t, took, tt.policy.Window/time.Duration(tt.policy.Quota), "the sequence must be shorter than one interval")
			for i, d := range got {
				want, err := mem.Allow(ctx, tt.policy, "198.51.100.7")
				require.NoError(t, err)
				require.Equal(t, want.Policy, d.Policy, "request %d", i)
				require.Equal(t, want.Allowed, d.Allowed, "request %d", i)
				require.Equal(t, want.Remaining, d.Remaining, "request %d", i)
				within(t, want.Reset, d.Reset, took, "Reset of request %d", i)
				within(t, want.RetryAfter, d.RetryAfter, took, "RetryAfter of request %d", i)
			}
		})
	}
}

// TestRedisShowsHugeQuotasAsMemory: a quota of more than one a microsecond (one back every 60 ns) shows t=1 in
// the RateLimit field from both stores, not t=0 from Redis's microseconds.
func TestRedisShowsHugeQuotasAsMemory(t *testing.T) {
	t.Parallel()
	cfg := config.RateLimitConfig{Window: time.Minute, Default: 1_000_000_000}
	ctx := clientip.NewContext(context.Background(), netip.MustParseAddr("203.0.113.5"))
	for _, kind := range []string{"memory", "redis"} {
		res, err := ratelimit.New(cfg, newStore(t, kind)).Check(ctx, ratelimit.ActionDefault, "")
		require.NoError(t, err)
		h := http.Header{}
		res.SetHeaders(h)
		require.Equal(t, `"default";r=999999999;t=1`, h.Get("RateLimit"), kind)
	}
}

// within requires got to be want less at most took (and Redis's microsecond).
func within(t *testing.T, want, got, took time.Duration, msg string, args ...any) {
	t.Helper()
	m := fmt.Sprintf(msg, args...)
	if want == 0 {
		require.Zero(t, got, m)
		return
	}
	require.GreaterOrEqual(t, got, want-took-time.Microsecond, m)
	require.LessOrEqual(t, got, want+time.Microsecond, m)
}

// TestRedisSharesLimitsAcrossInstances: two instances (their own Limits, store, connections and fallback) sharing
// one Redis allow together what one allows; in process, each allows it.
func TestRedisSharesLimitsAcrossInstances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		store   func(t *testing.T, prefix string) ratelimit.Store
		allowed int
	}{
		{"in Redis: one quota for both", func(t *testing.T, prefix string) ratelimit.Store {
			return startRedis(t, ratelimit.RedisConfig{URL: redistest.URL(t), Prefix: prefix})
		}, 3},
		{"in process: a quota each", func(*testing.T, string) ratelimit.Store { return ratelimit.NewMemory(1000, time.Now) }, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.RateLimitConfig{Window: time.Minute, Login: 3}
			prefix := redistest.Prefix()
			instances := []*ratelimit.Limits{ratelimit.New(cfg, tt.store(t, prefix)), ratelimit.New(cfg, tt.store(t, prefix))}
			ctx := clientip.NewContext(context.Background(), netip.MustParseAddr("203.0.113.9"))
			allowed := 0
			for i := range 8 {
				res, err := instances[i%2].Check(ctx, ratelimit.ActionLogin, "")
				require.NoError(t, err)
				if res.Err() == nil {
					require.Equal(t, i, allowed, "every guess is allowed until the quota is spent, then none")
					allowed++
				}
			}
			require.Equal(t, tt.allowed, allowed)
		})
	}
}

// observer counts what a Redis store reports.
type observer struct {
	fallbacks, shares, checks atomic.Int64
}

func (o *observer) ObserveRateLimitShared(shared bool) {
	if shared {
		o.shares.Add(1)
	} else {
		o.fallbacks.Add(1)
	}
}

func (o *observer) ObserveRateLimitFallback() { o.checks.Add(1) }

// TestRedisOutage: when Redis dies, the limits go on in each instance (still limited, from what the instance
// counted itself, and not refusing anyone else), the switch logged once and observed; when it is back, the
// limits are shared again. The server is killed, as in a crash.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	logger, logs := logtest.New()
	obs := &observer{}
	prefix := redistest.Prefix()
	a := startRedis(t, ratelimit.RedisConfig{URL: srv.URL(), Prefix: prefix, ProbeEvery: 20 * time.Millisecond, Observer: obs, Logger: logger})
	b := startRedis(t, ratelimit.RedisConfig{URL: srv.URL(), Prefix: prefix, ProbeEvery: 20 * time.Millisecond})
	require.True(t, a.Shared())
	require.EqualValues(t, 1, obs.shares.Load())
	p := ratelimit.Policy{Name: "login", Quota: 4, Window: time.Hour}
	allow := func(s ratelimit.Store, key string) bool {
		t.Helper()
		d, err := s.Allow(ctx, p, key)
		require.NoError(t, err)
		return d.Allowed
	}

	// Shared: two guesses through a, two through b, and a's third is refused.
	require.True(t, allow(a, "mallory"))
	require.True(t, allow(a, "mallory"))
	require.True(t, allow(b, "mallory"))
	require.True(t, allow(b, "mallory"))
	require.False(t, allow(a, "mallory"), "the quota is spent across both instances")
	require.Zero(t, obs.checks.Load())

	srv.Stop()
	// a counted three of Mallory's guesses itself: one more, then refused, however often it is asked.
	require.True(t, allow(a, "mallory"), "in process, from a's own count")
	for range 50 {
		require.False(t, allow(a, "mallory"), "still limited: never unlimited")
	}
	require.True(t, allow(a, "alice"), "and nobody else refused")
	require.False(t, a.Shared())
	require.EqualValues(t, 1, obs.fallbacks.Load(), "the fallback is observed once")
	require.EqualValues(t, 52, obs.checks.Load(), "every decision taken in process is counted")
	require.Equal(t, 1, strings.Count(logs.String(), "Redis does not answer"), "and logged once:\n%s", logs)

	srv.Start()
	require.Eventually(t, a.Shared, 10*time.Second, 10*time.Millisecond, "the probe finds Redis back")
	require.Eventually(t, b.Shared, 10*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 2, obs.shares.Load())
	require.Equal(t, 1, strings.Count(logs.String(), "Redis answers again"), logs.String())
	// The restarted server kept nothing (no persistence): a fresh quota, shared by both again.
	for i, s := range []ratelimit.Store{a, b, a, b} {
		require.True(t, allow(s, "bob"), "guess %d", i)
	}
	require.False(t, allow(a, "bob"))
	require.False(t, allow(b, "bob"))
	require.EqualValues(t, 52, obs.checks.Load(), "no decision in process since")
}

// TestRedisHung: a Redis that stops answering without closing its connections (frozen) costs the request that
// meets it at most about the timeout; the next ones do not wait for it at all.
func TestRedisHung(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	timeout := 200 * time.Millisecond
	r := startRedis(t, ratelimit.RedisConfig{URL: srv.URL(), Prefix: redistest.Prefix(), Timeout: timeout, ProbeEvery: 20 * time.Millisecond})
	p := ratelimit.Policy{Name: "default", Quota: 100, Window: time.Minute}
	_, err := r.Allow(ctx, p, "k")
	require.NoError(t, err)
	require.True(t, r.Shared())

	srv.Pause()
	start := time.Now()
	d, err := r.Allow(ctx, p, "k")
	require.NoError(t, err)
	require.True(t, d.Allowed, "decided in process")
	require.Less(t, time.Since(start), timeout+2*time.Second, "one wait of about the timeout, however slow the machine")
	require.False(t, r.Shared())
	start = time.Now()
	for range 50 {
		_, err := r.Allow(ctx, p, "k")
		require.NoError(t, err)
	}
	require.Less(t, time.Since(start), timeout, "then no request waits for Redis")

	srv.Resume()
	require.Eventually(t, r.Shared, 10*time.Second, 10*time.Millisecond, "back once it answers")
}

// TestRedisRefusingWrites: a Redis that answers PING but refuses the limiter's writes (as a replica after a
// failover does, or one out of memory) is a Redis down: the limits stay in process, logged once, until it takes
// writes again, rather than switching back and forth at every probe.
func TestRedisRefusingWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	opt, err := redis.ParseURL(srv.URL())
	require.NoError(t, err)
	admin := redis.NewClient(opt)
	defer admin.Close()
	logger, logs := logtest.New()
	r := startRedis(t, ratelimit.RedisConfig{URL: srv.URL(), Prefix: redistest.Prefix(), ProbeEvery: 10 * time.Millisecond, Logger: logger})
	p := ratelimit.Policy{Name: "login", Quota: 10, Window: time.Minute}
	_, err = r.Allow(ctx, p, "k")
	require.NoError(t, err)
	require.True(t, r.Shared())

	require.NoError(t, admin.ConfigSet(ctx, "min-replicas-to-write", "1").Err()) // no replica: every write refused
	require.NoError(t, admin.Ping(ctx).Err())
	d, err := r.Allow(ctx, p, "k")
	require.NoError(t, err)
	require.True(t, d.Allowed, "decided in process")
	require.False(t, r.Shared())
	time.Sleep(200 * time.Millisecond) // some probes, however few a slow machine runs
	require.False(t, r.Shared(), "a PING is no proof that Redis takes the limiter's writes")
	require.Equal(t, 1, strings.Count(logs.String(), "Redis does not answer"), logs.String())

	require.NoError(t, admin.ConfigSet(ctx, "min-replicas-to-write", "0").Err())
	require.Eventually(t, r.Shared, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, 1, strings.Count(logs.String(), "Redis answers again"), logs.String())
}

// TestRedisStartsWithoutRedis: an instance whose Redis does not answer at start starts all the same, limiting on
// its own until Redis answers.
func TestRedisStartsWithoutRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.Stop()
	obs := &observer{}
	r := startRedis(t, ratelimit.RedisConfig{URL: srv.URL(), Prefix: redistest.Prefix(), ProbeEvery: 20 * time.Millisecond, Observer: obs})
	require.False(t, r.Shared())
	require.EqualValues(t, 1, obs.fallbacks.Load())
	p := ratelimit.Policy{Name: "login", Quota: 1, Window: time.Minute}
	d, err := r.Allow(context.Background(), p, "k")
	require.NoError(t, err)
	require.True(t, d.Allowed)
	d, err = r.Allow(context.Background(), p, "k")
	require.NoError(t, err)
	require.False(t, d.Allowed, "limited in process")
	srv.Start()
	require.Eventually(t, r.Shared, 10*time.Second, 10*time.Millisecond)
}

func TestNewRedisRefusesBadURLsWithoutPrintingThem(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"redis://user:s3cret@[::1", "http://user:s3cret@localhost:6379", "redis://user:s3cret@localhost:6379/x"} {
		_, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: u, Fallback: ratelimit.NewMemory(1, time.Now)})
		require.Error(t, err, u)
		require.NotContains(t, err.Error(), "s3cret")
	}
}

// BenchmarkStoreAllow is one decision's cost in each store, from parallel requests over 1,024 clients: Memory,
// and Redis on the shared test server (a round trip on loopback, and the Memory it keeps counting in), with
// GOMAXPROCS requests at once (its latency) and with 16 times as many (its throughput).
func BenchmarkStoreAllow(b *testing.B) {
	p := ratelimit.Policy{Name: "default", Quota: 1_000_000_000, Window: time.Minute}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.100.%d", i)
	}
	for _, bb := range []struct {
		name        string
		redis       bool
		parallelism int
	}{{"memory", false, 1}, {"redis", true, 1}, {"redis-16x", true, 16}} {
		b.Run(bb.name, func(b *testing.B) {
			var s ratelimit.Store = ratelimit.NewMemory(1<<20, time.Now)
			if bb.redis {
				r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: redistest.URL(b), Prefix: redistest.Prefix(), Fallback: s})
				require.NoError(b, err)
				require.NoError(b, r.Start(context.Background()))
				defer func() { require.NoError(b, r.Stop(context.Background())) }()
				s = r
			}
			b.ReportAllocs()
			b.SetParallelism(bb.parallelism)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					_, _ = s.Allow(context.Background(), p, keys[i%len(keys)])
					i++
				}
			})
			if r, ok := s.(*ratelimit.Redis); ok && !r.Shared() {
				b.Fatal("Redis stopped answering during the benchmark")
			}
		})
	}
}
