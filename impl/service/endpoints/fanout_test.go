package endpoints_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/servicetest"
)

// attemptResult is what the fan-out worker would record for target tg's attempt answered with status.
func attemptResult(tg service.DeliveryTarget, status int) service.AttemptResult {
	return service.AttemptResult{
		DeliveryID: tg.DeliveryID, EndpointID: tg.EndpointID, MessageID: tg.MessageID, New: tg.New,
		Attempt: tg.Attempt, AttemptedAt: time.Now(), StatusCode: status, Duration: time.Millisecond,
	}
}

// pendingGauge is what junction_webhook_deliveries{status="pending"} reports.
func pendingGauge(t *testing.T, ops interface {
	WebhookDeliveryCounts(context.Context) ([]service.Count, error)
}) int64 {
	t.Helper()
	counts, err := ops.WebhookDeliveryCounts(context.Background())
	require.NoError(t, err)
	for _, c := range counts {
		if c.A == string(service.DeliveryPending) {
			return c.N
		}
	}
	return 0
}

// TestADeliveryToAnEndpointDeletedMeanwhileIsNotKept: a fan-out reads its targets, sends, and records; an
// endpoint deleted in between must not be left a delivery that nobody can list, whose retry job finds no target
// and ends, and that stays pending for 30 days, counted by the pending gauge as "waiting for an attempt" (found by
// an outside attack: the delivery made at record time, without a foreign key, outlived its endpoint). Deleted
// even while the record runs (the trigger cannot see a delivery made after it ran), the delivery goes when its
// next attempt finds no endpoint.
func TestADeliveryToAnEndpointDeletedMeanwhileIsNotKept(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{WebhookSchedule: retry.Schedule{Delays: []time.Duration{time.Hour}}})
	ada := signUp(t, s, "Ada", service.RoleUser)
	failing, succeeding, racing := create(t, s, ada), create(t, s, ada), create(t, s, ada)
	_, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Heard", Content: "By three", Published: true})
	require.NoError(t, err)
	var msg uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_messages").Scan(&msg))
	targets, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Len(t, targets, 3)
	by := map[uuid.UUID]service.DeliveryTarget{}
	for _, tg := range targets {
		by[tg.EndpointID] = tg
	}
	deliveries := func(endpoint uuid.UUID) int {
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", endpoint).Scan(&n))
		return n
	}

	// Deleted before the record.
	require.NoError(t, s.Endpoints.Delete(ada, failing.Endpoint.ID))
	require.NoError(t, s.Endpoints.Delete(ada, succeeding.Endpoint.ID))
	require.NoError(t, s.Endpoints.RecordAll(context.Background(), []service.AttemptResult{
		attemptResult(by[failing.Endpoint.ID], 500), attemptResult(by[succeeding.Endpoint.ID], 200),
	}))
	require.Zero(t, deliveries(failing.Endpoint.ID), "a failure to a deleted endpoint makes no delivery")
	require.Zero(t, deliveries(succeeding.Endpoint.ID), "nor does a success")
	var jobs int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'").Scan(&jobs))
	require.Zero(t, jobs, "nor a retry that has nothing to send")
	require.Zero(t, pendingGauge(t, s.Ops))

	// Deleted while the record runs: the deletion's trigger has run before the delivery is made.
	tx, err := pool.Begin(context.Background())
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(context.Background(), "DELETE FROM webhook_endpoints WHERE id = $1", racing.Endpoint.ID)
	require.NoError(t, err)
	recorded := make(chan error, 1)
	go func() {
		recorded <- s.Endpoints.RecordAll(context.Background(), []service.AttemptResult{attemptResult(by[racing.Endpoint.ID], 500)})
	}()
	time.Sleep(300 * time.Millisecond) // the record waits for the deleted row's lock (the failing streak)
	require.NoError(t, tx.Commit(context.Background()))
	require.NoError(t, <-recorded)
	if deliveries(racing.Endpoint.ID) > 0 {
		// Its next attempt finds no endpoint, and the delivery goes.
		_, err := s.Endpoints.Target(context.Background(), by[racing.Endpoint.ID].DeliveryID)
		require.Equal(t, service.ENOTFOUND, service.ErrorCode(err))
		require.Zero(t, deliveries(racing.Endpoint.ID), "a delivery whose endpoint is gone is deleted when its attempt finds none")
	}
	require.Zero(t, pendingGauge(t, s.Ops))
}

// TestADeliveryIsCreatedNoLaterThanItsFirstAttempt: the delivery log shows when each delivery was made and its
// attempts; a fan-out's delivery, made only as its first attempt is recorded, must not read as made after that
// attempt (and after it ended), as docs/webhooks.md's example and every delivery before did (found by an outside
// attack: createdAt was the record's time).
func TestADeliveryIsCreatedNoLaterThanItsFirstAttempt(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{WebhookSchedule: retry.Schedule{Delays: []time.Duration{time.Hour}}})
	ada := signUp(t, s, "Ada", service.RoleUser)
	taking, refusing := create(t, s, ada), create(t, s, ada)
	_, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Heard", Content: "By two", Published: true})
	require.NoError(t, err)
	var msg uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_messages").Scan(&msg))
	targets, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Len(t, targets, 2)
	attempted := time.Now().Add(-time.Minute).Truncate(time.Microsecond) // a slow exchange, recorded a minute on
	var rs []service.AttemptResult
	for _, tg := range targets {
		r := attemptResult(tg, 200)
		if tg.EndpointID == refusing.Endpoint.ID {
			r.StatusCode = 503
		}
		r.AttemptedAt, r.Duration = attempted, 10*time.Second
		rs = append(rs, r)
	}
	require.NoError(t, s.Endpoints.RecordAll(context.Background(), rs))
	for _, e := range []uuid.UUID{taking.Endpoint.ID, refusing.Endpoint.ID} {
		page, err := s.Endpoints.ListDeliveries(ada, e, service.ListWebhookDeliveriesParams{Page: 1, Limit: 10})
		require.NoError(t, err)
		require.Len(t, page.Deliveries, 1)
		d := page.Deliveries[0]
		require.Len(t, d.Attempts, 1)
		require.False(t, d.CreatedAt.After(d.Attempts[0].AttemptedAt),
			"%s: created %s, after its first attempt at %s", d.Status, d.CreatedAt, d.Attempts[0].AttemptedAt)
	}
}

// TestAFanOutPastTheInlineBoundRunAgainMakesNothingTwice: a fan-out past service.WebhookFanOutInline endpoints
// that crashed after making the rest pending (with their jobs) and before recording its own attempts sends, run
// again, its own attempts only: no second pending delivery nor job for the rest, none of the rest inline.
func TestAFanOutPastTheInlineBoundRunAgainMakesNothingTwice(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	const admins = 6
	for i := range admins {
		name := "Admin" + string(rune('A'+i))
		admin := signUp(t, s, name, service.RoleAdmin)
		require.NoError(t, s.Accounts.GrantAdmin(context.Background(), strings.ToLower(name)+"@example.com"))
		for range service.WebhookEndpointsPerUser {
			create(t, s, admin)
		}
	}
	const total = admins * service.WebhookEndpointsPerUser
	ada := signUp(t, s, "Ada", service.RoleUser)
	_, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Heard", Content: "By all", Published: true})
	require.NoError(t, err)
	var msg uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_messages").Scan(&msg))
	state := func() (deliveries, jobs int) {
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM webhook_deliveries),
			(SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery')`).Scan(&deliveries, &jobs))
		return deliveries, jobs
	}

	first, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Len(t, first, service.WebhookFanOutInline)
	d, j := state()
	require.Equal(t, total-service.WebhookFanOutInline, d)
	require.Equal(t, total-service.WebhookFanOutInline, j)

	again, err := s.Endpoints.FanOut(context.Background(), msg) // the first run crashed before its record
	require.NoError(t, err)
	require.Len(t, again, service.WebhookFanOutInline)
	ids := func(ts []service.DeliveryTarget) []uuid.UUID {
		var out []uuid.UUID
		for _, tg := range ts {
			out = append(out, tg.EndpointID)
		}
		return out
	}
	require.ElementsMatch(t, ids(first), ids(again), "the same endpoints, none of the rest")
	d2, j2 := state()
	require.Equal(t, d, d2)
	require.Equal(t, j, j2)
	var rs []service.AttemptResult
	for _, tg := range again {
		rs = append(rs, attemptResult(tg, 204))
	}
	require.NoError(t, s.Endpoints.RecordAll(context.Background(), rs))
	d3, _ := state()
	require.Equal(t, total, d3)
	done, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Empty(t, done)
}

// TestAFanOutNeverTakesADraftsEventToOthers: who a fan-out sends to is decided again as it runs, and a draft's
// event still reaches its author's endpoints alone, even when another user became an admin since it was
// published; an event of nobody's (a payment without a user) reaches the admins' endpoints alone, and a private
// one of nobody's reaches no one.
func TestAFanOutNeverTakesADraftsEventToOthers(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	c := core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ada := signUp(t, s, "Ada", service.RoleUser)
	bob := signUp(t, s, "Bob", service.RoleUser)
	grace := signUp(t, s, "Grace", service.RoleAdmin)
	require.NoError(t, s.Accounts.GrantAdmin(context.Background(), "grace@example.com"))
	types := []service.WebhookEventType{service.WebhookPostUpdated, service.WebhookCommentCreated}
	ea, eb := create(t, s, ada, types...), create(t, s, bob, types...)
	eg := create(t, s, grace, append(types, service.WebhookPaymentSucceeded)...)

	draft, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Secret", Content: "x"})
	require.NoError(t, err)
	_, err = s.Posts.Update(ada, draft.ID, service.UpdatePostInput{Title: new("Secret, revised")})
	require.NoError(t, err)
	_, err = s.Comments.Create(ada, draft.ID, "note to self")
	require.NoError(t, err)
	require.NoError(t, s.Accounts.GrantAdmin(context.Background(), "bob@example.com")) // after the events
	publish := func(m service.WebhookMessage) {
		require.NoError(t, c.InTx(context.Background(), func(tx pgx.Tx) error { return c.Publish(context.Background(), tx, m) }))
	}
	publish(service.WebhookMessage{Type: service.WebhookPaymentSucceeded, Data: service.Payment{ID: "pi_1", Amount: 100, Currency: "eur", Status: "succeeded"}})
	publish(service.WebhookMessage{Type: service.WebhookPostUpdated, Private: true, Data: draft})

	rows, err := pool.Query(context.Background(), "SELECT id, type, private FROM webhook_messages ORDER BY created_at")
	require.NoError(t, err)
	type message struct {
		id      uuid.UUID
		typ     string
		private bool
	}
	var messages []message
	for rows.Next() {
		var m message
		require.NoError(t, rows.Scan(&m.id, &m.typ, &m.private))
		messages = append(messages, m)
	}
	require.NoError(t, rows.Err())
	require.Len(t, messages, 3, "the draft's update and comment, and the payment; the private event of nobody's is kept by no one")
	for _, m := range messages {
		targets, err := s.Endpoints.FanOut(context.Background(), m.id)
		require.NoError(t, err)
		var got []uuid.UUID
		for _, tg := range targets {
			got = append(got, tg.EndpointID)
		}
		if m.typ == string(service.WebhookPaymentSucceeded) {
			require.Equal(t, []uuid.UUID{eg.Endpoint.ID}, got, "a payment of nobody's: the admins")
			continue
		}
		require.True(t, m.private)
		require.Equal(t, []uuid.UUID{ea.Endpoint.ID}, got, "%s of a draft: its author alone, not %s (an admin since) nor %s", m.typ, eb.Endpoint.ID, eg.Endpoint.ID)
	}
}
