package metrics

import (
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// TestObserveRequestBoundsItsLabels: whatever clients send, a request is labelled with a route pattern or
// "unmatched", and with a method HTTP defines or "other".
func TestObserveRequestBoundsItsLabels(t *testing.T) {
	t.Parallel()
	m := New(nil, nil, slog.New(slog.DiscardHandler))
	m.ObserveRequest("/api/users/{id}", http.MethodGet, http.StatusOK, time.Millisecond)
	m.ObserveRequest("", "M1", http.StatusNotFound, time.Millisecond)
	m.ObserveRequest("", "M2", http.StatusNotFound, time.Millisecond)
	require.Equal(t, 1.0, testutil.ToFloat64(m.requests.WithLabelValues("/api/users/{id}", http.MethodGet, "200")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "other", "404")))
	require.Equal(t, 2, testutil.CollectAndCount(m.requests))
	require.Equal(t, 2, testutil.CollectAndCount(m.duration))
}

// TestObserveWebhookAttemptCountsByOutcome: each attempt is counted and timed under its outcome.
func TestObserveWebhookAttemptCountsByOutcome(t *testing.T) {
	t.Parallel()
	m := New(nil, nil, slog.New(slog.DiscardHandler))
	m.ObserveWebhookAttempt("succeeded", 10*time.Millisecond)
	m.ObserveWebhookAttempt("succeeded", 20*time.Millisecond)
	m.ObserveWebhookAttempt("unreachable", time.Second)
	require.Equal(t, 2.0, testutil.ToFloat64(m.attempts.WithLabelValues("succeeded")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.attempts.WithLabelValues("unreachable")))
	require.Equal(t, 2, testutil.CollectAndCount(m.attemptDuration))
}

// TestObserveRequestCountsEachSeries: the series looked up once keep counting, apart by route, method and status,
// from any number of goroutines.
func TestObserveRequestCountsEachSeries(t *testing.T) {
	t.Parallel()
	m := New(nil, nil, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				m.ObserveRequest("/api/users/{id}", http.MethodGet, http.StatusOK, time.Millisecond)
				m.ObserveRequest("/api/users/{id}", http.MethodGet, http.StatusNotModified, time.Millisecond)
				m.ObserveRequest("/api/users/{id}", http.MethodHead, http.StatusOK, time.Millisecond)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 800.0, testutil.ToFloat64(m.requests.WithLabelValues("/api/users/{id}", http.MethodGet, "200")))
	require.Equal(t, 800.0, testutil.ToFloat64(m.requests.WithLabelValues("/api/users/{id}", http.MethodGet, "304")))
	require.Equal(t, 800.0, testutil.ToFloat64(m.requests.WithLabelValues("/api/users/{id}", http.MethodHead, "200")))
	require.Equal(t, 3, testutil.CollectAndCount(m.requests))
	require.Equal(t, 2, testutil.CollectAndCount(m.duration))
}
