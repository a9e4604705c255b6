package totals

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	counter := func(n *atomic.Int64) func(context.Context) (int64, error) {
		return func(context.Context) (int64, error) { return n.Add(1), nil }
	}
	tests := []struct {
		name   string
		ttl    time.Duration
		act    func(tc *Cache, count func(context.Context) (int64, error))
		counts int64 // how many times the list was counted in all, after a final get
	}{
		{"a total is remembered", time.Minute, func(tc *Cache, c func(context.Context) (int64, error)) { _, _ = tc.Get(ctx, "users\x00", c) }, 1},
		{"until twice its TTL", time.Minute, func(tc *Cache, c func(context.Context) (int64, error)) {
			_, _ = tc.Get(ctx, "users\x00", c)
			tc.now = func() time.Time { return now.Add(2 * time.Minute) }
		}, 2},
		{"a write to its list forgets it", time.Minute, func(tc *Cache, c func(context.Context) (int64, error)) {
			_, _ = tc.Get(ctx, "users\x00", c)
			tc.Forget(Users)
		}, 2},
		{"a write to another list does not", time.Minute, func(tc *Cache, c func(context.Context) (int64, error)) {
			_, _ = tc.Get(ctx, "users\x00", c)
			tc.Forget(Posts)
		}, 1},
		{"a TTL of 0 counts every time", 0, func(tc *Cache, c func(context.Context) (int64, error)) { _, _ = tc.Get(ctx, "users\x00", c) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := New(tt.ttl, 10, time.Now)
			tc.now = func() time.Time { return now }
			var n atomic.Int64
			tt.act(tc, counter(&n))
			_, err := tc.Get(ctx, "users\x00", counter(&n))
			require.NoError(t, err)
			require.Equal(t, tt.counts, n.Load())
		})
	}

	t.Run("a stale total is served while it is recounted in the background", func(t *testing.T) {
		tc := New(time.Minute, 10, time.Now)
		tc.now = func() time.Time { return now }
		_, err := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) { return 1, nil })
		require.NoError(t, err)
		tc.now = func() time.Time { return now.Add(90 * time.Second) }
		recounted := make(chan struct{})
		got, err := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) { defer close(recounted); return 2, nil })
		require.NoError(t, err)
		require.Equal(t, int64(1), got, "the stale total, at once")
		<-recounted
		require.Eventually(t, func() bool {
			got, _ := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) { return 3, nil })
			return got == 2
		}, time.Second, time.Millisecond, "then the new one")
	})

	t.Run("a count that raced a write is not kept", func(t *testing.T) {
		tc := New(time.Minute, 10, time.Now)
		var n atomic.Int64
		_, err := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) {
			tc.Forget(Users) // the write commits while the count runs
			return n.Add(1), nil
		})
		require.NoError(t, err)
		_, err = tc.Get(ctx, "users\x00", counter(&n))
		require.NoError(t, err)
		require.Equal(t, int64(2), n.Load())
	})

	t.Run("concurrent misses share one count, and errors are not kept", func(t *testing.T) {
		tc := New(time.Minute, 10, time.Now)
		release := make(chan struct{})
		var n atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				got, err := tc.Get(ctx, "posts\x00", func(context.Context) (int64, error) {
					<-release
					return 41 + n.Add(1), nil
				})
				require.NoError(t, err)
				require.Equal(t, int64(42), got)
			})
		}
		time.Sleep(50 * time.Millisecond)
		close(release)
		wg.Wait()
		require.Equal(t, int64(1), n.Load())

		_, err := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) { return 0, errors.New("down") })
		require.Error(t, err)
		got, err := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) { return 7, nil })
		require.NoError(t, err)
		require.Equal(t, int64(7), got)
	})
}

// TestPeek: a peek returns what Get would without counting, and nothing once the total is past twice its TTL,
// forgotten, or never counted, or when the cache is off.
func TestPeek(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	tc := New(time.Minute, 10, func() time.Time { return now })
	_, ok := tc.Peek("users\x00")
	require.False(t, ok, "never counted")
	_, err := tc.Get(ctx, "users\x00", func(context.Context) (int64, error) { return 20, nil })
	require.NoError(t, err)
	for _, tt := range []struct {
		age  time.Duration
		want bool
	}{{0, true}, {90 * time.Second, true}, {2 * time.Minute, false}} {
		tc.now = func() time.Time { return now.Add(tt.age) }
		n, ok := tc.Peek("users\x00")
		require.Equal(t, tt.want, ok, "at %s", tt.age)
		if ok {
			require.Equal(t, int64(20), n)
		}
	}
	tc.now = func() time.Time { return now }
	tc.Forget(Users)
	_, ok = tc.Peek("users\x00")
	require.False(t, ok, "forgotten")
	_, ok = New(0, 10, time.Now).Peek("users\x00")
	require.False(t, ok, "off")
}
