package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

func testDelivery(ctx context.Context, t *testing.T, id, body string) *delivery {
	t.Helper()
	payload := fmt.Appendf(nil, `{"id":%q,"type":"payment_intent.succeeded","created":1700000000,"data":{"object":%s}}`, id, body)
	var ev stripeEvent
	require.NoError(t, json.Unmarshal(payload, &ev))
	return &delivery{ctx: ctx, ev: ev, payload: payload, done: make(chan error, 1)}
}

func countRows(t *testing.T, s *Service, query string) int {
	t.Helper()
	var n int
	require.NoError(t, s.core.Pool.QueryRow(context.Background(), query).Scan(&n))
	return n
}

// newTestService is a billing Service on a fresh database, its intake open, whose jobs an insert-only River
// client inserts.
func newTestService(t *testing.T) (*Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	s := New(core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, s.Stop(context.Background())) })
	return s, pool
}

// TestIntakeBatchesConcurrentDeliveries: deliveries that arrive while a batch is being written are written
// together, each once with its job, and each sender hears of its own.
func TestIntakeBatchesConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	first := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	s.intake = newIntake(func(ctx context.Context, batch []*delivery) error {
		mu.Lock()
		sizes = append(sizes, len(batch))
		calls := len(sizes)
		mu.Unlock()
		if calls == 1 {
			<-first // hold the first batch until the others queue behind it
		}
		return s.storeDeliveries(ctx, batch)
	})
	require.NoError(t, s.intake.start())
	var wg sync.WaitGroup
	errs := make([]error, 50)
	wg.Go(func() { errs[0] = s.intake.submit(testDelivery(ctx, t, "evt_0", `{"id":"pi_0"}`)) })
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(sizes) == 1 }, 5*time.Second, time.Millisecond)
	for i := 1; i < 50; i++ {
		id := fmt.Sprintf("evt_%d", i%25) // half of them repeats
		wg.Go(func() { errs[i] = s.intake.submit(testDelivery(ctx, t, id, `{"id":"pi"}`)) })
	}
	require.Eventually(t, func() bool { s.intake.mu.Lock(); defer s.intake.mu.Unlock(); return len(s.intake.pending) == 49 }, 5*time.Second, time.Millisecond)
	close(first)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "delivery %d", i)
	}
	require.Equal(t, []int{1, 49}, sizes, "the 49 that queued behind the first went in one batch")
	require.Equal(t, 25, countRows(t, s, "SELECT count(*) FROM webhook_events"), "each event stored once")
	require.Equal(t, 25, countRows(t, s, "SELECT count(*) FROM river_job WHERE kind = 'webhook_event'"), "with one job each")
}

// TestIntakeFailureIsPerDelivery: a delivery that cannot be stored fails alone; the rest of its batch is stored.
func TestIntakeFailureIsPerDelivery(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	batch := []*delivery{
		testDelivery(ctx, t, "evt_good_1", `{"id":"pi_1"}`),
		testDelivery(ctx, t, "evt_bad", `{"id":"pi_2","description":"nul \u0000 inside"}`),
		testDelivery(ctx, t, "evt_good_2", `{"id":"pi_3"}`),
	}
	s.intake.write(batch)
	require.NoError(t, <-batch[0].done)
	require.Equal(t, service.EINVALID, service.ErrorCode(<-batch[1].done), "refused for itself, as bad input")
	require.NoError(t, <-batch[2].done)
	require.Equal(t, 2, countRows(t, s, "SELECT count(*) FROM webhook_events"))
}

// TestIntakeSkipsAbandonedAndRefusesBeyondItsQueue: a delivery whose sender has gone is not written; with the
// queue full, a delivery is refused at once as unavailable.
func TestIntakeSkipsAbandonedAndRefusesBeyondItsQueue(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.intake.submit(testDelivery(gone, t, "evt_gone", `{}`)), context.Canceled)
	require.Eventually(t, func() bool { s.intake.mu.Lock(); defer s.intake.mu.Unlock(); return !s.intake.busy }, 5*time.Second, time.Millisecond)
	require.Zero(t, countRows(t, s, "SELECT count(*) FROM webhook_events"))

	s.intake.mu.Lock()
	s.intake.busy = true // as if a batch were being written
	for range intakeQueueMax {
		s.intake.pending = append(s.intake.pending, &delivery{})
	}
	s.intake.mu.Unlock()
	err := s.intake.submit(testDelivery(context.Background(), t, "evt_late", `{}`))
	require.Equal(t, service.EUNAVAILABLE, service.ErrorCode(err))
}

// TestIntakeStopWaitsForWhatItTook: Stop refuses new deliveries at once (unavailable: the sender retries), and
// returns only once the batch being written is stored and answered, or its context ends.
func TestIntakeStopWaitsForWhatItTook(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	release := make(chan struct{})
	s.intake = newIntake(func(ctx context.Context, batch []*delivery) error {
		<-release
		return s.storeDeliveries(ctx, batch)
	})
	require.NoError(t, s.intake.start())
	taken := make(chan error, 1)
	go func() { taken <- s.intake.submit(testDelivery(ctx, t, "evt_taken", `{"id":"pi_1"}`)) }()
	require.Eventually(t, func() bool { s.intake.mu.Lock(); defer s.intake.mu.Unlock(); return s.intake.busy }, 5*time.Second, time.Millisecond)

	expired, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Stop(expired), context.DeadlineExceeded, "a stop that runs out of time says so")
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(ctx) }()
	require.Equal(t, service.EUNAVAILABLE, service.ErrorCode(s.intake.submit(testDelivery(ctx, t, "evt_late", `{"id":"pi_2"}`))),
		"nothing new is taken once stopping")
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) before the batch it took was stored", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-taken)
	require.NoError(t, <-stopped)
	require.Equal(t, 1, countRows(t, s, "SELECT count(*) FROM webhook_events"))
}
