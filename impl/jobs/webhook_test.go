package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/logtest"
)

func TestWebhookProcessingThroughTheWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	created := time.Now().Unix()
	deliver := func(id, object string) {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"type":"payment_intent.succeeded","created":%d,"data":{"object":%s}}`, id, created, object)
		require.NoError(t, b.svc.Billing.ReceiveStripe(ctx, []byte(body)))
	}
	state := func(eventID string) (status string, attempts int) {
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT status, attempts FROM webhook_events WHERE event_id = $1", eventID).Scan(&status, &attempts))
		return
	}

	deliver("evt_good", `{"id":"pi_1","amount":500,"currency":"usd","status":"succeeded","receipt_email":"buyer@example.com"}`)
	require.Eventually(t, func() bool { s, _ := state("evt_good"); return s == "processed" }, 20*time.Second, 20*time.Millisecond)
	receipt := b.smtp.WaitAccepted(t, 1, 20*time.Second)[0]
	require.Equal(t, []string{"buyer@example.com"}, receipt.To)
	require.Equal(t, "Your Junction receipt", receipt.Header.Get("Subject"))
	require.Contains(t, receipt.Body(), "5.00 USD")

	// A handler that fails is retried by River, and each failure is visible on the event.
	deliver("evt_bad", `{"amount":"not a number"}`)
	require.Eventually(t, func() bool { s, n := state("evt_bad"); return s == "failed" && n >= 2 }, 20*time.Second, 20*time.Millisecond)
	var jobAttempt int
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT attempt FROM river_job WHERE kind = 'webhook_event' ORDER BY id DESC LIMIT 1").Scan(&jobAttempt))
	require.GreaterOrEqual(t, jobAttempt, 2)
}

// TestAWorkingClientNeedsItsServices: a client that works jobs refuses to start before its workers have the
// services they call, instead of failing every job it fetches.
func TestAWorkingClientNeedsItsServices(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	logger, _ := logtest.New()
	working, err := jobs.NewClient(pool, jobs.Config{Work: true, Services: &jobs.Services{}, Logger: logger,
		JobsConfig: config.JobsConfig{EmailConcurrency: 1, JobTimeout: time.Second, RescueStuckAfter: time.Minute}})
	require.NoError(t, err)
	require.ErrorContains(t, working.Start(context.Background()), "services")
}
