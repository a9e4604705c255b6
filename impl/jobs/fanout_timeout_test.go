package jobs_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/servicetest"
)

// TestAFanOutCutShortRecordsWhatItSent: a fan-out whose job runs out of time (its timeout, or the worker
// stopping) while one receiver is slow has already had other receivers' answers; those must be recorded, or the
// job's retry sends every one of them again, and a fan-out that always runs out of time (many endpoints, few
// slots, slow receivers) never ends and re-sends forever (found by an outside attack: the record used the job's
// context, already done, and failed whole).
func TestAFanOutCutShortRecordsWhatItSent(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{
		WebhookTargets: outbound.Policy{AllowPrivate: true}, WebhookSchedule: retry.Schedule{Delays: []time.Duration{time.Hour}},
	})
	fast := newReceiver(t, always(ok))
	slow := newReceiver(t, func(n int) answer {
		if n == 1 {
			return answer{status: http.StatusOK, hang: time.Minute} // until the job's context ends
		}
		return ok
	})
	u, err := s.Users.Create(context.Background(), service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	ada := service.NewContextWithActor(context.Background(), service.Actor{UserID: u.ID, Role: service.RoleUser})
	endpoint := func(url string) uuid.UUID {
		e, err := s.Endpoints.Create(ada, service.CreateWebhookEndpointInput{URL: url, EventTypes: []service.WebhookEventType{service.WebhookPostPublished}})
		require.NoError(t, err)
		return e.Endpoint.ID
	}
	fastID, slowID := endpoint(fast.URL), endpoint(slow.URL)
	_, err = s.Posts.Create(ada, service.CreatePostInput{Title: "Heard", Content: "By two", Published: true})
	require.NoError(t, err)
	var msg uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_messages").Scan(&msg))

	w := jobs.NewFanOutWorker(s.Endpoints, outbound.NewClient(outbound.Policy{AllowPrivate: true}, time.Second, time.Minute, 0), 10)
	job := &river.Job[service.WebhookFanOutArgs]{JobRow: &rivertype.JobRow{}, Args: service.WebhookFanOutArgs{MessageID: msg}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.Error(t, w.Work(ctx, job), "the job must run again for what it could not send")
	fast.wait(t, 1)
	slow.wait(t, 1)

	status := func(endpoint uuid.UUID) (string, int) {
		var st string
		var attempts int
		err := pool.QueryRow(context.Background(), `SELECT d.status, (SELECT count(*) FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id)
			FROM webhook_deliveries d WHERE d.endpoint_id = $1`, endpoint).Scan(&st, &attempts)
		if err != nil {
			return err.Error(), 0
		}
		return st, attempts
	}
	st, n := status(fastID)
	require.Equal(t, "succeeded", st, "the answer that came before the job's time ran out is recorded")
	require.Equal(t, 1, n)

	require.NoError(t, w.Work(context.Background(), job), "the job's retry")
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, 1, fast.count(), "what was recorded is not sent again")
	require.Equal(t, 2, slow.count())
	st, n = status(slowID)
	require.Equal(t, "succeeded", st)
	require.Equal(t, 1, n, "the attempt cut short by the worker is not the receiver's failure")
}
