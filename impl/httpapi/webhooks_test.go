package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/webhook"
)

// stripeSignature is the Stripe-Signature header for body sent at t: webhook.Sign's, which impl/webhook pins to
// Stripe's scheme with a known answer.
func stripeSignature(secret string, t time.Time, body string) string {
	return webhook.Sign([]byte(secret), t, []byte(body))
}

func stripeEvent(id, typ string, created int64, object string) string {
	return fmt.Sprintf(`{"id":%q,"object":"event","type":%q,"created":%d,"livemode":false,"data":{"object":%s}}`, id, typ, created, object)
}

func (b *testBundle) deliver(body, signature string) response {
	b.t.Helper()
	var h []string
	if signature != "" {
		h = []string{"Stripe-Signature", signature}
	}
	return b.do(http.MethodPost, "/api/webhooks/stripe", "application/json", body, h...)
}

func (b *testBundle) count(table string) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func (b *testBundle) webhookJobs() int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'webhook_event'").Scan(&n))
	return n
}

func TestStripeWebhookVerification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	body := stripeEvent("evt_1", "payment_intent.succeeded", now.Unix(), `{"id":"pi_1","amount":2000,"currency":"usd","status":"succeeded"}`)
	good := stripeSignature(webhookSecret, now, body)
	v1 := strings.Split(good, "v1=")[1]
	big := stripeEvent("evt_big", "x", now.Unix(), fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", 1<<20)))
	tests := []struct {
		name, body, signature, contentType string
	}{
		{"missing header", body, "", "application/json"},
		{"malformed header", body, "garbage", "application/json"},
		{"no v1", body, fmt.Sprintf("t=%d", now.Unix()), "application/json"},
		{"tampered body", strings.Replace(body, "2000", "1", 1), good, "application/json"},
		{"a byte appended", body + "\n", good, "application/json"},
		{"wrong secret", body, stripeSignature("whsec_wrong", now, body), "application/json"},
		{"expired", body, stripeSignature(webhookSecret, now.Add(-6*time.Minute), body), "application/json"},
		{"from the future", body, stripeSignature(webhookSecret, now.Add(6*time.Minute), body), "application/json"},
		{"signature of another timestamp", body, fmt.Sprintf("t=%d,v1=%s", now.Unix()-1, v1), "application/json"},
		{"over 1 MiB", big, stripeSignature(webhookSecret, now, big), "application/json"},
		{"invalid JSON, signed", `{"id":`, stripeSignature(webhookSecret, now, `{"id":`), "application/json"},
		{"not an event, signed", `{"hello":"world"}`, stripeSignature(webhookSecret, now, `{"hello":"world"}`), "application/json"},
		{"not JSON", body, good, "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.signature != "" {
				h = []string{"Stripe-Signature", tt.signature}
			}
			r := b.do(http.MethodPost, "/api/webhooks/stripe", tt.contentType, tt.body, h...)
			require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
			var e api.Error
			require.NoError(t, json.Unmarshal(r.body, &e))
			require.Equal(t, "Webhook validation failed", e.Error)
			require.Equal(t, 400, e.StatusCode)
		})
	}
	require.Zero(t, b.count("webhook_events"), "nothing is stored")
	require.Zero(t, b.webhookJobs())

	// Several v1 signatures, one of them valid, and a secret being rotated out: accepted.
	several := fmt.Sprintf("t=%d,v1=%s,v1=%s", now.Unix(), strings.Repeat("ab", 32), v1)
	require.Equal(t, http.StatusOK, b.deliver(body, several).status)
	old := stripeEvent("evt_2", "charge.refunded", now.Unix(), `{"id":"ch_1"}`)
	require.Equal(t, http.StatusOK, b.deliver(old, stripeSignature("whsec_old", now, old)).status)
	require.Equal(t, 2, b.count("webhook_events"))
}

func TestStripeWebhookStoresOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	body := stripeEvent("evt_once", "payment_intent.succeeded", now.Unix(), `{"id":"pi_1","amount":2000,"currency":"usd","status":"succeeded"}`)

	r := b.deliver(body, stripeSignature(webhookSecret, now, body))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.JSONEq(t, `{"received":true}`, string(r.body))
	r = b.deliver(body, stripeSignature(webhookSecret, now.Add(time.Second), body))
	require.Equal(t, http.StatusOK, r.status, "a repeated delivery is acknowledged")
	require.Equal(t, 1, b.count("webhook_events"))
	require.Equal(t, 1, b.webhookJobs())

	var typ, status string
	var payload []byte
	require.NoError(t, b.pool.QueryRow(context.Background(),
		"SELECT type, status, payload::text FROM webhook_events WHERE provider = 'stripe' AND event_id = 'evt_once'").Scan(&typ, &status, &payload))
	require.Equal(t, "payment_intent.succeeded", typ)
	require.Equal(t, "received", status)
	require.JSONEq(t, body, string(payload))

	// 100 deliveries of one new event, racing.
	racing := stripeEvent("evt_race", "customer.subscription.created", now.Unix(), `{"id":"sub_1","status":"active"}`)
	sig := stripeSignature(webhookSecret, now, racing)
	var wg sync.WaitGroup
	statuses := make(chan int, 100)
	for range 100 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, b.url+"/api/webhooks/stripe", strings.NewReader(racing))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Stripe-Signature", sig)
			resp, err := b.http.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		require.Equal(t, http.StatusOK, s)
	}
	require.Equal(t, 2, b.count("webhook_events"))
	require.Equal(t, 2, b.webhookJobs(), "one job per event")
}

func TestAdminWebhookEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := time.Now()
	for i, typ := range []string{"payment_intent.succeeded", "charge.refunded", "payment_intent.succeeded"} {
		body := stripeEvent(fmt.Sprintf("evt_%d", i), typ, now.Unix(), `{"id":"x"}`)
		require.Equal(t, http.StatusOK, b.deliver(body, stripeSignature(webhookSecret, now, body)).status)
	}
	_, adminToken := b.signUp("Admin", "admin@example.com")
	_, err := b.pool.Exec(ctx, "UPDATE users SET role = 'admin' WHERE email = 'admin@example.com'")
	require.NoError(t, err)
	_, userToken := b.signUp("User", "user@example.com")

	r := b.do(http.MethodGet, "/api/admin/webhook-events", "", "")
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = b.do(http.MethodGet, "/api/admin/webhook-events", "", "", withToken(userToken)...)
	require.Equal(t, http.StatusForbidden, r.status)

	typ := "payment_intent.succeeded"
	list, err := b.client.ListWebhookEventsWithResponse(ctx, &api.ListWebhookEventsParams{Type: &typ, Limit: new(int32(1))}, bearer(adminToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode(), string(list.Body))
	require.EqualValues(t, 2, list.JSON200.Pagination.Total)
	require.Len(t, list.JSON200.Data, 1)
	require.Equal(t, "evt_2", list.JSON200.Data[0].EventId, "newest first")
	require.Contains(t, *list.JSON200.Links.Next, "type=payment_intent.succeeded")
	received := api.WebhookEventStatusReceived
	list, err = b.client.ListWebhookEventsWithResponse(ctx, &api.ListWebhookEventsParams{Status: &received}, bearer(adminToken))
	require.NoError(t, err)
	require.EqualValues(t, 3, list.JSON200.Pagination.Total)
	r = b.do(http.MethodGet, "/api/admin/webhook-events?status=lost", "", "", withToken(adminToken)...)
	require.Equal(t, http.StatusBadRequest, r.status)

	event := list.JSON200.Data[0]
	replay, err := b.client.ReplayWebhookEventWithResponse(ctx, event.Id, nil, bearer(adminToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, replay.StatusCode(), string(replay.Body))
	require.Equal(t, event.Id, replay.JSON202.Data.Id)
	require.Equal(t, 4, b.webhookJobs(), "the replay queued the job again")
	r = b.do(http.MethodPost, "/api/admin/webhook-events/"+"0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11"+"/replay", "", "", withToken(adminToken)...)
	require.Equal(t, http.StatusNotFound, r.status)
	r = b.do(http.MethodPost, "/api/admin/webhook-events/"+event.Id.String()+"/replay", "", "", withToken(userToken)...)
	require.Equal(t, http.StatusForbidden, r.status)
}
