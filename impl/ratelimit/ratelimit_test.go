package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/redistest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

func TestGCRA(t *testing.T) {
	t.Parallel()
	p := ratelimit.Policy{Name: "login", Quota: 4, Window: time.Minute} // one back every 15 s
	type step struct {
		after     time.Duration
		allowed   bool
		remaining int
		reset     time.Duration
		retry     time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the whole quota at once, then one every interval", []step{
			{0, true, 3, 15 * time.Second, 0},
			{0, true, 2, 30 * time.Second, 0},
			{0, true, 1, 45 * time.Second, 0},
			{0, true, 0, time.Minute, 0},
			{0, false, 0, time.Minute, 15 * time.Second},
			{10 * time.Second, false, 0, 50 * time.Second, 5 * time.Second},
			{5 * time.Second, true, 0, time.Minute, 0},
		}},
		{"a quiet key has its whole quota back", []step{
			{0, true, 3, 15 * time.Second, 0},
			{0, true, 2, 30 * time.Second, 0},
			{time.Hour, true, 3, 15 * time.Second, 0},
		}},
		{"spread evenly, never refused", []step{
			{0, true, 3, 15 * time.Second, 0},
			{15 * time.Second, true, 3, 15 * time.Second, 0},
			{15 * time.Second, true, 3, 15 * time.Second, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			m := ratelimit.NewMemory(1000, c.Now)
			for i, s := range tt.steps {
				c.Advance(s.after)
				d, err := m.Allow(context.Background(), p, "k")
				require.NoError(t, err)
				want := ratelimit.Decision{Policy: p, Allowed: s.allowed, Remaining: s.remaining, Reset: s.reset, RetryAfter: s.retry}
				require.Equal(t, want, d, "step %d", i)
			}
		})
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := ratelimit.NewMemory(64*4, c.Now) // 4 keys a shard
	p := ratelimit.Policy{Name: "default", Quota: 2, Window: time.Minute}
	refused := 0
	for i := range 10_000 {
		d, err := m.Allow(context.Background(), p, fmt.Sprint("client-", i))
		require.NoError(t, err)
		if !d.Allowed {
			refused++
		}
	}
	require.Greater(t, refused, 9000, "a flood of new keys is counted as one once the limiter is full")
	c.Advance(time.Minute)
	d, err := m.Allow(context.Background(), p, "a newcomer")
	require.NoError(t, err)
	require.True(t, d.Allowed, "keys whose quota came back are forgotten, and the room is reused")
}

// TestLimits holds for both stores: the same answers, to the header, whether the limits are kept in this process
// or in Redis.
func TestLimits(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			testLimits(t, newStore(t, store))
		})
	}
}

// newStore is a Memory, its clock stopped, or a started Redis store on the shared test server with keys of its
// own.
func newStore(t *testing.T, kind string) ratelimit.Store {
	t.Helper()
	if kind == "memory" {
		return ratelimit.NewMemory(1000, newClock().Now)
	}
	return startRedis(t, ratelimit.RedisConfig{URL: redistest.URL(t), Prefix: redistest.Prefix()})
}

// startRedis starts a Redis store for cfg (with a fallback of its own unless cfg has one) until t ends.
func startRedis(t *testing.T, cfg ratelimit.RedisConfig) *ratelimit.Redis {
	t.Helper()
	if cfg.Fallback == nil {
		cfg.Fallback = ratelimit.NewMemory(1000, time.Now)
	}
	r, err := ratelimit.NewRedis(cfg)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
	return r
}

func testLimits(t *testing.T, store ratelimit.Store) {
	limits := ratelimit.New(config.RateLimitConfig{Window: time.Minute, Login: 2, Default: 0}, store)
	from := func(ip string) context.Context {
		return clientip.NewContext(context.Background(), netip.MustParseAddr(ip))
	}

	res, err := limits.Check(from("203.0.113.1"), ratelimit.ActionDefault, "")
	require.NoError(t, err)
	require.Empty(t, res.Decisions, "a limit of 0 is off")
	require.NoError(t, res.Err())

	check := func(ip, account string) ratelimit.Result {
		res, err := limits.Check(from(ip), ratelimit.ActionLogin, account)
		require.NoError(t, err)
		return res
	}
	require.NoError(t, check("203.0.113.1", "ada@example.com").Err())
	res = check("203.0.113.2", " ADA@example.com ")
	require.NoError(t, res.Err())
	h := http.Header{}
	res.SetHeaders(h)
	require.Equal(t, `"login";q=2;w=60, "login-account";q=10;w=60`, h.Get("RateLimit-Policy"))
	require.Equal(t, `"login";r=1;t=30, "login-account";r=8;t=12`, h.Get("RateLimit"), "the same account, whatever its case")

	// One client cannot spend an account's budget; five can.
	for i := range 8 {
		require.NoError(t, check(fmt.Sprintf("198.51.100.%d", i/2), "ada@example.com").Err(), "try %d", i)
	}
	var exceeded *ratelimit.ExceededError
	require.True(t, errors.As(check("203.0.113.3", "ada@example.com").Err(), &exceeded), "the account is spent, whatever the address")
	require.Equal(t, 6, exceeded.RetryAfterSeconds())
	require.NoError(t, check("203.0.113.3", "bob@example.com").Err(), "another account from the same address")

	// A key costs the same whatever is sent as the account.
	require.NoError(t, check("203.0.113.4", strings.Repeat("x", 65_536)).Err())

	// IPv6 clients are counted by their /64.
	require.NoError(t, check("2001:db8::1", "").Err())
	require.NoError(t, check("2001:db8::2", "").Err())
	require.Error(t, check("2001:db8::3", "").Err())
	require.NoError(t, check("2001:db8:0:1::1", "").Err())
}

// TestSetHeadersWritesWhatFmtWrote: the fields built without fmt are byte for byte what the fmt-built ones were
// (`%q;q=%d;w=%d` and `%q;r=%d;t=%d`, joined by ", "), under the keys Header.Set uses, and an Add to one field
// leaves the other alone (the two share one backing array).
func TestSetHeadersWritesWhatFmtWrote(t *testing.T) {
	t.Parallel()
	fmtFields := func(ds []ratelimit.Decision) (string, string) {
		var policy, state []string
		secs := func(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }
		for _, d := range ds {
			policy = append(policy, fmt.Sprintf("%q;q=%d;w=%d", d.Policy.Name, d.Policy.Quota, secs(d.Policy.Window)))
			state = append(state, fmt.Sprintf("%q;r=%d;t=%d", d.Policy.Name, d.Remaining, secs(d.Reset)))
		}
		return strings.Join(policy, ", "), strings.Join(state, ", ")
	}
	login := ratelimit.Policy{Name: "login", Quota: 10, Window: time.Minute}
	for name, ds := range map[string][]ratelimit.Decision{
		"one":        {{Policy: login, Allowed: true, Remaining: 9, Reset: 6 * time.Second}},
		"two":        {{Policy: login, Remaining: 0, Reset: 59*time.Second + time.Millisecond}, {Policy: ratelimit.Policy{Name: "login-account", Quota: 50, Window: time.Hour}, Remaining: 49, Reset: time.Nanosecond}},
		"odd name":   {{Policy: ratelimit.Policy{Name: "a \"quoted\" é\n", Quota: 1 << 40, Window: 1500 * time.Millisecond}, Remaining: -1, Reset: -time.Second}},
		"long names": {{Policy: ratelimit.Policy{Name: strings.Repeat("x", 300), Quota: 3, Window: time.Second}}, {Policy: login}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			ratelimit.Result{Decisions: ds}.SetHeaders(h)
			policy, state := fmtFields(ds)
			require.Equal(t, http.Header{"Ratelimit-Policy": {policy}, "Ratelimit": {state}}, h)
			h.Add("RateLimit-Policy", "more")
			require.Equal(t, []string{state}, h.Values("RateLimit"))
			require.Equal(t, []string{policy, "more"}, h.Values("RateLimit-Policy"))
		})
	}
}
