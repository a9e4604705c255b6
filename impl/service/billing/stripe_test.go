package billing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/servicetest"
)

// receive stores a Stripe event as the intake does and returns its stored id.
func receive(t *testing.T, s *wire.Services, pool *pgxpool.Pool, id, typ string, created time.Time, object string) uuid.UUID {
	t.Helper()
	body := fmt.Sprintf(`{"id":%q,"type":%q,"created":%d,"data":{"object":%s}}`, id, typ, created.Unix(), object)
	require.NoError(t, s.Billing.ReceiveStripe(context.Background(), []byte(body)))
	var stored uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_events WHERE event_id = $1", id).Scan(&stored))
	return stored
}

func eventStatus(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) (status service.WebhookStatus, attempts int, lastError *string) {
	t.Helper()
	var raw string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT status, attempts, last_error FROM webhook_events WHERE id = $1", id).
		Scan(&raw, &attempts, &lastError))
	return service.WebhookStatus(raw), attempts, lastError
}

func TestPaymentEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	t0 := time.Unix(1_700_000_000, 0)
	pi := func(status string) string {
		return fmt.Sprintf(`{"id":"pi_1","amount":2599,"currency":"eur","status":%q,"customer":"cus_1","metadata":{"user_id":%q}}`, status, ada.ID)
	}
	payment := func() (status string, amount int64, user *uuid.UUID, customer string) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT status, amount, user_id, customer FROM payments WHERE stripe_id = 'pi_1'").
			Scan(&status, &amount, &user, &customer))
		return
	}

	failed := receive(t, s, pool, "evt_failed", "payment_intent.payment_failed", t0, pi("requires_payment_method"))
	require.NoError(t, s.Billing.Process(ctx, failed))
	status, amount, user, customer := payment()
	require.Equal(t, "requires_payment_method", status)
	require.EqualValues(t, 2599, amount)
	require.Equal(t, ada.ID, *user)
	require.Equal(t, "cus_1", customer)
	st, attempts, _ := eventStatus(t, pool, failed)
	require.Equal(t, service.WebhookProcessed, st)
	require.Equal(t, 1, attempts)

	succeeded := receive(t, s, pool, "evt_ok", "payment_intent.succeeded", t0.Add(time.Minute), pi("succeeded"))
	require.NoError(t, s.Billing.Process(ctx, succeeded))
	status, _, _, _ = payment()
	require.Equal(t, "succeeded", status)
	receipts := func() int {
		n := 0
		for _, j := range servicetest.EmailJobs(t, pool) {
			if j.Type == service.EmailReceipt {
				require.Equal(t, "ada@example.com", j.To)
				require.Equal(t, "25.99 EUR", j.Amount)
				require.Equal(t, "pi_1", j.PaymentID)
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, receipts(), "a receipt is queued with the success")

	// An older event delivered late does not regress the payment.
	late := receive(t, s, pool, "evt_late", "payment_intent.failed", t0.Add(-time.Minute), pi("requires_payment_method"))
	require.NoError(t, s.Billing.Process(ctx, late))
	status, _, _, _ = payment()
	require.Equal(t, "succeeded", status)

	// Processing the success again (a replay) changes nothing and sends no second receipt.
	require.NoError(t, s.Billing.Process(ctx, succeeded))
	require.Equal(t, 1, receipts())
	_, attempts, _ = eventStatus(t, pool, succeeded)
	require.Equal(t, 2, attempts)
}

func TestSubscriptionEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	t0 := time.Unix(1_700_000_000, 0)
	sub := func(status, price string, end int64) string {
		return fmt.Sprintf(`{"id":"sub_1","customer":"cus_1","status":%q,"current_period_end":%d,"metadata":{"user_id":%q},
			"items":{"data":[{"price":{"id":%q}}]}}`, status, end, ada.ID, price)
	}
	get := func() (status, price string, end time.Time, user uuid.UUID) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT status, price, current_period_end, user_id FROM subscriptions WHERE stripe_id = 'sub_1'").
			Scan(&status, &price, &end, &user))
		return
	}
	steps := []struct {
		id, typ       string
		at            time.Time
		object        string
		status, price string
	}{
		{"evt_c", "customer.subscription.created", t0, sub("incomplete", "price_basic", t0.Unix()+100), "incomplete", "price_basic"},
		{"evt_u", "customer.subscription.updated", t0.Add(2 * time.Minute), sub("active", "price_pro", t0.Unix()+200), "active", "price_pro"},
		{"evt_stale", "customer.subscription.updated", t0.Add(time.Minute), sub("past_due", "price_basic", t0.Unix()+150), "active", "price_pro"},
		{"evt_d", "customer.subscription.deleted", t0.Add(3 * time.Minute), sub("canceled", "price_pro", t0.Unix()+200), "canceled", "price_pro"},
	}
	for _, step := range steps {
		id := receive(t, s, pool, step.id, step.typ, step.at, step.object)
		require.NoError(t, s.Billing.Process(ctx, id), step.id)
		status, price, _, user := get()
		require.Equal(t, step.status, status, step.id)
		require.Equal(t, step.price, price, step.id)
		require.Equal(t, ada.ID, user)
	}
	_, _, end, _ := get()
	require.Equal(t, t0.Unix()+200, end.Unix())
}

func TestOtherAndBrokenEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	t0 := time.Unix(1_700_000_000, 0)

	other := receive(t, s, pool, "evt_other", "charge.refunded", t0, `{"id":"ch_1"}`)
	require.NoError(t, s.Billing.Process(ctx, other))
	st, _, _ := eventStatus(t, pool, other)
	require.Equal(t, service.WebhookIgnored, st)

	broken := receive(t, s, pool, "evt_broken", "payment_intent.succeeded", t0, `{"amount":"lots"}`)
	require.Error(t, s.Billing.Process(ctx, broken))
	st, attempts, lastErr := eventStatus(t, pool, broken)
	require.Equal(t, service.WebhookFailed, st)
	require.Equal(t, 1, attempts)
	require.Contains(t, *lastErr, "payment intent")
	var payments int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM payments").Scan(&payments))
	require.Zero(t, payments)

	admin := service.NewContextWithActor(ctx, service.Actor{UserID: uuid.New(), Role: service.RoleAdmin})
	page, err := s.Billing.List(admin, service.ListWebhookEventsParams{Status: service.WebhookFailed})
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	require.Equal(t, "evt_broken", page.Events[0].EventID)
	_, err = s.Billing.List(service.NewContextWithActor(ctx, service.Actor{UserID: uuid.New(), Role: service.RoleUser}), service.ListWebhookEventsParams{})
	require.Equal(t, service.EFORBIDDEN, service.ErrorCode(err))

	require.Equal(t, service.ENOTFOUND, service.ErrorCode(s.Billing.Process(ctx, uuid.New())))
}
