package retry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	s, err := ParseSchedule(WebhookSchedule)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}, s.Delays)
	var total time.Duration
	for _, d := range s.Delays {
		total += d
	}
	require.InDelta(t, 27.6, total.Hours(), 0.1, "8 attempts over about 27 h")
	for _, bad := range []string{"", "5s,,1m", "5s,0s", "-1s", "soon"} {
		_, err := ParseSchedule(bad)
		require.Error(t, err, "%q", bad)
	}
	s, err = ParseSchedule(" 10ms, 20ms ")
	require.NoError(t, err, "tests configure a schedule of milliseconds")
	require.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, s.Delays)
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	s := Schedule{Delays: []time.Duration{time.Minute, 10 * time.Minute}, Jitter: 0.2}
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
		ok         bool
	}{
		{"after the first attempt", 1, 0, 0.5, time.Minute, true},
		{"the least jitter", 1, 0, 0, 48 * time.Second, true},
		{"the most jitter", 1, 0, 0.999999, 72 * time.Second, true},
		{"after the second", 2, 0, 0.5, 10 * time.Minute, true},
		{"none after the last", 3, 0, 0.5, 0, false},
		{"no attempt 0", 0, 0, 0.5, 0, false},
		{"Retry-After within the window", 1, 90 * time.Second, 0.5, 90 * time.Second, true},
		{"Retry-After cannot hurry it", 1, time.Second, 0.5, time.Minute, true},
		{"nor stall it", 1, time.Hour, 0.5, 2 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Next(tt.attempt, tt.retryAfter, func() float64 { return tt.rnd })
			require.Equal(t, tt.ok, ok)
			require.InDelta(t, float64(tt.want), float64(got), float64(time.Millisecond))
		})
	}
}
