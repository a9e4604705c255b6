package retry

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is a fixed list of delays between the attempts of a delivery that may take hours (a webhook), rather
// than a backoff: after the first attempt fails the next comes Delays[0] later, and so on, so a delivery makes
// len(Delays)+1 attempts in all. Each delay is spread by ±Jitter of itself, so that deliveries that failed together
// do not all retry at once.
type Schedule struct {
	Delays []time.Duration
	Jitter float64
}

// WebhookSchedule is Svix's: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (8 attempts over about 27 h), each
// ±20%.
const WebhookSchedule = "5s,5m,30m,2h,5h,10h,10h"

// ParseSchedule reads comma-separated Go durations, such as [WebhookSchedule], with ±20% jitter. Every delay must
// be positive; the list may not be empty.
func ParseSchedule(s string) (Schedule, error) {
	parts := strings.Split(s, ",")
	delays := make([]time.Duration, 0, len(parts))
	for _, p := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return Schedule{}, fmt.Errorf("retry schedule %q: %w", s, err)
		}
		if d <= 0 {
			return Schedule{}, fmt.Errorf("retry schedule %q: delays must be positive", s)
		}
		delays = append(delays, d)
	}
	return Schedule{Delays: delays, Jitter: 0.2}, nil
}

// Next is the delay before the attempt after attempt (1-based) failed, and false when none is left. A
// Retry-After the receiver sent (on 429 or 503; zero for none) is honoured within [scheduled, 2×scheduled]: a
// receiver may ask for more time, but neither hurry the schedule nor stall the delivery. rnd returns a number in
// [0, 1) (math/rand/v2's Float64).
func (s Schedule) Next(attempt int, retryAfter time.Duration, rnd func() float64) (time.Duration, bool) {
	if attempt < 1 || attempt > len(s.Delays) {
		return 0, false
	}
	scheduled := s.Delays[attempt-1]
	if retryAfter > 0 {
		return min(max(retryAfter, scheduled), 2*scheduled), true
	}
	spread := 1 + s.Jitter*(2*rnd()-1)
	return time.Duration(float64(scheduled) * spread), true
}
