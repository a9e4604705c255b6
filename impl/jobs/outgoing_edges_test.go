package jobs_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/service"
)

// TestOverlappingRecoversSendEachFailedDeliveryOnce a user who presses "recover" several times (or
// whose script retries the call) must not make Junction re-send every failed delivery once per press, in parallel
// and out of event order: each recovery claims the failed deliveries it sends, so the others find none (found by
// an outside attack: each re-sent them all).
func TestOverlappingRecoversSendEachFailedDeliveryOnce(t *testing.T) {
	t.Parallel()
	b := setup(t) // no retries: every failure is final
	ada, _ := b.actor(t, "Ada", false)
	// Slow enough that every press lands while the first recovery still sends: a press after it ended is a new
	// recovery, which rightly sends what failed again.
	r := newReceiver(t, always(answer{status: http.StatusServiceUnavailable, hang: 300 * time.Millisecond}))
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	for i, title := range []string{"one", "two", "three"} {
		publish(t, b, ada, title)
		b.deliveries(t, ada, e.Endpoint.ID, i+1)
	}
	require.Equal(t, 3, r.count())

	const presses = 5
	var wg sync.WaitGroup
	for range presses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.svc.Endpoints.Recover(ada, e.Endpoint.ID, time.Now().Add(-time.Hour))
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	r.wait(t, 6)
	time.Sleep(3 * time.Second) // let any further recovery jobs run
	b.deliveries(t, ada, e.Endpoint.ID, 3)
	got := r.count() - 3
	require.Equal(t, 3, got, "%d overlapping recoveries re-sent %d requests for 3 failed deliveries", presses, got)
}

// TestReEnablingStartsTheFailingStreakAgain an owner who disables a failing endpoint to fix their
// receiver, and enables it again days later, has not had "5 days of failures": the first failed attempt after
// re-enabling must not disable the endpoint at once: enabling starts the streak afresh.
func TestReEnablingStartsTheFailingStreakAgain(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	b := setupWith(t, setupOptions{now: clock})
	ada, _ := b.actor(t, "Ada", false)
	r := newReceiver(t, always(answer{status: http.StatusInternalServerError}))
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)

	publish(t, b, ada, "One") // fails: the streak starts
	b.deliveries(t, ada, e.Endpoint.ID, 1)
	off, on := false, true
	_, err := b.svc.Endpoints.Update(ada, e.Endpoint.ID, service.UpdateWebhookEndpointInput{Enabled: &off})
	require.NoError(t, err)
	advance(6 * 24 * time.Hour)
	_, err = b.svc.Endpoints.Update(ada, e.Endpoint.ID, service.UpdateWebhookEndpointInput{Enabled: &on})
	require.NoError(t, err)

	publish(t, b, ada, "Two") // one failed attempt, minutes after re-enabling
	b.deliveries(t, ada, e.Endpoint.ID, 2)
	ep, err := b.svc.Endpoints.Get(ada, e.Endpoint.ID)
	require.NoError(t, err)
	require.Nil(t, ep.DisabledReason, "disabled right after being re-enabled, after a single failure")
	require.True(t, ep.Enabled)
}
