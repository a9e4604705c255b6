package retry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// fakeTime is an injected clock and sleeper: sleeping advances the clock, nothing really waits.
type fakeTime struct {
	now    time.Time
	sleeps []time.Duration
}

func (f *fakeTime) clock() time.Time { return f.now }

func (f *fakeTime) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func policy(f *fakeTime, p Policy) Policy {
	p.Clock, p.Sleep = f.clock, f.sleep
	if p.Rand == nil {
		p.Rand = func() float64 { return 0.5 }
	}
	return p
}

// failing returns an op that fails with errs in turn, then succeeds.
func failing(errs ...error) (func(context.Context) error, *int) {
	calls := 0
	return func(context.Context) error {
		calls++
		if calls <= len(errs) {
			return errs[calls-1]
		}
		return nil
	}, &calls
}

func TestDoBacksOffExponentiallyWithFullJitter(t *testing.T) {
	t.Parallel()
	f := &fakeTime{now: time.Unix(0, 0)}
	reset := fmt.Errorf("read: %w", syscall.ECONNRESET)
	op, calls := failing(reset, reset, reset, reset)
	err := Do(context.Background(), op, policy(f, Policy{MaxAttempts: 5, Initial: time.Second, Max: 5 * time.Second, Multiplier: 2}))
	require.NoError(t, err)
	require.Equal(t, 5, *calls)
	// Caps 1s, 2s, 4s, 5s (capped), each halved by the fixed jitter of 0.5.
	require.Equal(t, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2500 * time.Millisecond}, f.sleeps)
}

func TestDoJitterStaysUnderTheCap(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.3, 0.999} {
		f := &fakeTime{now: time.Unix(0, 0)}
		op, _ := failing(syscall.ECONNREFUSED)
		p := policy(f, Policy{Initial: time.Second, Rand: func() float64 { return r }})
		require.NoError(t, Do(context.Background(), op, p))
		require.Len(t, f.sleeps, 1)
		require.GreaterOrEqual(t, f.sleeps[0], time.Duration(0))
		require.Less(t, f.sleeps[0], time.Second)
	}
}

func TestDoGivesUp(t *testing.T) {
	t.Parallel()
	f := &fakeTime{now: time.Unix(0, 0)}
	timeout := &net.OpError{Op: "dial", Err: &timeoutErr{}}
	op, calls := failing(timeout, timeout, timeout, timeout)
	err := Do(context.Background(), op, policy(f, Policy{MaxAttempts: 3}))
	require.ErrorIs(t, err, ErrExhausted)
	require.ErrorAs(t, err, new(*net.OpError), "the last error is wrapped")
	require.Equal(t, 3, *calls)

	f = &fakeTime{now: time.Unix(0, 0)}
	op, calls = failing(timeout, timeout, timeout, timeout)
	err = Do(context.Background(), op, policy(f, Policy{MaxAttempts: 10, Initial: 4 * time.Second, MaxElapsed: 5 * time.Second}))
	require.ErrorIs(t, err, ErrExhausted)
	require.Equal(t, 2, *calls, "the second delay would pass MaxElapsed")
}

func TestDoDoesNotRetryPermanentErrors(t *testing.T) {
	t.Parallel()
	f := &fakeTime{now: time.Unix(0, 0)}
	permanent := errors.New("invalid input")
	op, calls := failing(permanent)
	err := Do(context.Background(), op, policy(f, Policy{MaxAttempts: 5}))
	require.Equal(t, permanent, err)
	require.Equal(t, 1, *calls)
	require.Empty(t, f.sleeps)
}

func TestDoStopsAtOnceOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeTime{now: time.Unix(0, 0)}
	calls := 0
	op := func(context.Context) error {
		calls++
		cancel()
		return syscall.ECONNRESET
	}
	err := Do(ctx, op, policy(f, Policy{MaxAttempts: 5}))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, syscall.ECONNRESET, "the last error is kept")
	require.Equal(t, 1, calls)

	// A cancel during a sleep stops it at once: this sleeper blocks until the context ends.
	ctx, cancel = context.WithCancel(context.Background())
	sleeping := Policy{MaxAttempts: 5, Initial: time.Hour, Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}
	calls = 0
	err = Do(ctx, func(context.Context) error { calls++; return syscall.ECONNRESET }, sleeping)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, calls, "no attempt after the cancel")
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection reset", fmt.Errorf("read tcp: %w", syscall.ECONNRESET), true},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"timeout", &net.OpError{Op: "read", Err: &timeoutErr{}}, true},
		{"dns failure", &net.DNSError{Err: "no such host", Name: "db", IsNotFound: true}, true},
		{"dns timeout", &net.DNSError{Err: "timeout", Name: "db", IsTimeout: true}, true},
		{"pg connect error", &pgconn.ConnectError{}, true},
		{"pg admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"pg unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"pg error without a code", &pgconn.PgError{}, false},
		{"pg wrong password", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01"}), false},
		{"cancelled", context.Canceled, false},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), false},
		{"plain error", errors.New("nope"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Retryable(tt.err))
		})
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }
