// Package retry runs an operation that crosses the network until it succeeds, with capped exponential backoff and
// full jitter, retrying only the errors that a retry can fix.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently to retry. Its zero value is usable: see [Policy.withDefaults].
type Policy struct {
	// MaxAttempts counts the first try too; 0 means 3.
	MaxAttempts int
	// Initial is the cap on the first delay (default 100 ms); each next cap is Multiplier (default 2) times the
	// last, up to Max (default 10 s). With full jitter each delay is uniform in [0, cap).
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	// MaxElapsed stops retrying once this much time has passed since the first try; 0 means no limit.
	MaxElapsed time.Duration

	// Retryable classifies errors; nil means [Retryable].
	Retryable func(error) bool

	// Clock, Sleep and Rand are for tests; nil means the real ones.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	if p.Retryable == nil {
		p.Retryable = Retryable
	}
	if p.Clock == nil {
		p.Clock = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// ErrExhausted wraps the last error once every attempt has failed.
var ErrExhausted = errors.New("retry: attempts exhausted")

// Do calls op until it returns nil, a non-retryable error, the policy's attempts or time run out, or ctx ends.
// A cancelled ctx stops it at once, also mid-sleep. The error returned wraps op's last error.
func Do(ctx context.Context, op func(ctx context.Context) error, p Policy) error {
	p = p.withDefaults()
	start := p.Clock()
	capDelay := float64(p.Initial)
	var last error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return joinLast(fmt.Errorf("retry: %w", err), last)
		}
		last = op(ctx)
		if last == nil {
			return nil
		}
		if !p.Retryable(last) {
			return last
		}
		if attempt >= p.MaxAttempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrExhausted, attempt, last)
		}
		delay := time.Duration(p.Rand() * capDelay)
		if p.MaxElapsed > 0 && p.Clock().Sub(start)+delay > p.MaxElapsed {
			return fmt.Errorf("%w after %s: %w", ErrExhausted, p.Clock().Sub(start).Round(time.Millisecond), last)
		}
		if err := p.Sleep(ctx, delay); err != nil {
			return joinLast(fmt.Errorf("retry: %w", err), last)
		}
		capDelay = math.Min(capDelay*p.Multiplier, float64(p.Max))
	}
}

func joinLast(err, last error) error {
	if last == nil {
		return err
	}
	return fmt.Errorf("%w (last error: %w)", err, last)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
