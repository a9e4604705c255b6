package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

const hookURL = "https://93.184.216.34/hooks/junction"

// TestWebhookEndpointsOverREST: an endpoint is created with its secret (in that answer only), listed, read,
// changed, its secret rotated, and deleted, all through the generated Go client, every answer checked against the
// spec; nobody else sees it.
func TestWebhookEndpointsOverREST(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, token := b.signUp("Ada", "ada@example.com")
	_, grace := b.signUp("Grace", "grace@example.com")

	created, err := b.client.CreateWebhookEndpointWithResponse(ctx, api.CreateWebhookEndpointRequest{
		Url: hookURL, Description: ptr("Publishing"), EventTypes: api.WebhookEventTypes{"post.published", "comment.created"},
	}, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	e := created.JSON201.Data
	require.True(t, strings.HasPrefix(e.Secret, "whsec_"))
	require.Equal(t, "/api/webhook-endpoints/"+e.Id.String(), created.HTTPResponse.Header.Get("Location"))
	require.Equal(t, "no-store", created.HTTPResponse.Header.Get("Cache-Control"), "no cache keeps a secret")
	require.Equal(t, ada.Id, e.OwnerId)
	require.True(t, e.Enabled)

	list, err := b.client.ListWebhookEndpointsWithResponse(ctx, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode())
	require.Len(t, list.JSON200.Data, 1)
	require.Equal(t, int64(1), list.JSON200.Pagination.Total)

	patched, err := b.client.PatchWebhookEndpointWithResponse(ctx, e.Id, nil, api.PatchWebhookEndpointRequest{Enabled: ptr(false)}, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, patched.StatusCode(), string(patched.Body))
	require.False(t, patched.JSON200.Data.Enabled)

	rotated, err := b.client.RotateWebhookEndpointSecretWithResponse(ctx, e.Id, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rotated.StatusCode(), string(rotated.Body))
	require.NotEqual(t, e.Secret, rotated.JSON200.Data.Secret)
	require.Equal(t, "no-store", rotated.HTTPResponse.Header.Get("Cache-Control"))

	for _, secret := range []string{e.Secret, rotated.JSON200.Data.Secret} {
		got, err := b.client.GetWebhookEndpointWithResponse(ctx, e.Id, bearer(token))
		require.NoError(t, err)
		require.NotContains(t, string(got.Body), secret, "no later answer carries a secret")
		require.Len(t, b.transport.BodiesContaining(secret), 1, "only the answer that made it carries it")
	}

	other, err := b.client.GetWebhookEndpointWithResponse(ctx, e.Id, bearer(grace))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, other.StatusCode(), "someone else's endpoint does not exist for them")
	gone, err := b.client.DeleteWebhookEndpointWithResponse(ctx, e.Id, bearer(grace))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, gone.StatusCode())

	deleted, err := b.client.DeleteWebhookEndpointWithResponse(ctx, e.Id, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.StatusCode())
}

// TestWebhookEndpointsRefuseWhatTheyMustNot: bad input is a 400 naming the field, forbidden destinations and
// admin-only event types are refused, an eleventh endpoint is 409, and anonymous callers are 401.
func TestWebhookEndpointsRefuseWhatTheyMustNot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"loopback", `{"url":"https://127.0.0.1/hook","eventTypes":["post.published"]}`, http.StatusBadRequest, "url"},
		{"cloud metadata", `{"url":"http://169.254.169.254/latest","eventTypes":["post.published"]}`, http.StatusBadRequest, "url"},
		{"a private network", `{"url":"https://192.168.1.10/","eventTypes":["post.published"]}`, http.StatusBadRequest, "url"},
		{"not a URL", `{"url":"hooks here","eventTypes":["post.published"]}`, http.StatusBadRequest, "url"},
		{"an unknown type", `{"url":"` + hookURL + `","eventTypes":["post.exploded"]}`, http.StatusBadRequest, "eventTypes"},
		{"a type twice", `{"url":"` + hookURL + `","eventTypes":["post.published","post.published"]}`, http.StatusBadRequest, "eventTypes"},
		{"no types", `{"url":"` + hookURL + `","eventTypes":[]}`, http.StatusBadRequest, "eventTypes"},
		{"payments for a user", `{"url":"` + hookURL + `","eventTypes":["payment.succeeded"]}`, http.StatusForbidden, "eventTypes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.doJSON(http.MethodPost, "/api/webhook-endpoints", tt.body, withToken(token)...)
			e := r.envelope(t)
			require.Equal(t, tt.status, r.status, string(r.body))
			require.NotNil(t, e.Errors)
			named := false
			for field := range *e.Errors {
				named = named || field == tt.field || strings.HasPrefix(field, tt.field+".")
			}
			require.True(t, named, "the error names %s: %v", tt.field, *e.Errors)
		})
	}
	r := b.doJSON(http.MethodPost, "/api/webhook-endpoints", `{"url":"`+hookURL+`","eventTypes":["webhook.test"]}`)
	require.Equal(t, http.StatusUnauthorized, r.status)
	for i := range 11 {
		r := b.doJSON(http.MethodPost, "/api/webhook-endpoints", `{"url":"`+hookURL+`","eventTypes":["webhook.test"]}`, withToken(token)...)
		want := http.StatusCreated
		if i == 10 {
			want = http.StatusConflict
		}
		require.Equal(t, want, r.status, "endpoint %d: %s", i+1, r.body)
	}
}

// TestDeliveryOperationsAreTheOwners: the test, log, retry and recover operations work for the endpoint's owner
// through the generated client; anyone else's attempt is 404 as if it did not exist, and an admin may read the
// log but neither send nor re-send; what cannot be done now is 409, bad input 400.
func TestDeliveryOperationsAreTheOwners(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, token := b.signUp("Ada", "ada@example.com")
	_, grace := b.signUp("Grace", "grace@example.com")
	_, admin := b.signUp("Admin", "admin@example.com")
	_, err := b.pool.Exec(ctx, "UPDATE users SET role = 'admin' WHERE email = 'admin@example.com'")
	require.NoError(t, err)
	created, err := b.client.CreateWebhookEndpointWithResponse(ctx, api.CreateWebhookEndpointRequest{
		Url: hookURL, EventTypes: api.WebhookEventTypes{"post.published"},
	}, bearer(token))
	require.NoError(t, err)
	id := created.JSON201.Data.Id

	test, err := b.client.TestWebhookEndpointWithResponse(ctx, id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, test.StatusCode(), string(test.Body))
	d := test.JSON202.Data
	require.Equal(t, api.WebhookEventType("webhook.test"), d.EventType, "whatever types the endpoint takes")
	require.Equal(t, api.WebhookDeliveryStatus("pending"), d.Status)
	require.Equal(t, id, d.EndpointId)

	pending, failed := api.WebhookDeliveryStatus("pending"), api.WebhookDeliveryStatus("failed")
	published := api.WebhookEventType("post.published")
	for _, tt := range []struct {
		name   string
		params *api.ListWebhookDeliveriesParams
		want   int
	}{
		{"all", nil, 1},
		{"pending", &api.ListWebhookDeliveriesParams{Status: &pending}, 1},
		{"failed", &api.ListWebhookDeliveriesParams{Status: &failed}, 0},
		{"another type", &api.ListWebhookDeliveriesParams{EventType: &published}, 0},
	} {
		list, err := b.client.ListWebhookDeliveriesWithResponse(ctx, id, tt.params, bearer(token))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, list.StatusCode(), string(list.Body))
		require.Len(t, list.JSON200.Data, tt.want, tt.name)
		if tt.params != nil && tt.params.Status != nil {
			require.Contains(t, list.JSON200.Links.Self, "status="+string(*tt.params.Status), "links keep the filter")
		}
	}
	list, err := b.client.ListWebhookDeliveriesWithResponse(ctx, id, nil, bearer(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode(), "an admin may read any endpoint's log")

	since := time.Now().Add(-time.Hour)
	for _, who := range []struct{ name, token string }{{"someone else", grace}, {"an admin", admin}} {
		test, err := b.client.TestWebhookEndpointWithResponse(ctx, id, nil, bearer(who.token))
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, test.StatusCode(), who.name)
		retry, err := b.client.RetryWebhookDeliveryWithResponse(ctx, id, d.Id, nil, bearer(who.token))
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, retry.StatusCode(), who.name)
		recovered, err := b.client.RecoverWebhookDeliveriesWithResponse(ctx, id, nil, api.RecoverWebhookDeliveriesRequest{Since: since}, bearer(who.token))
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, recovered.StatusCode(), who.name)
	}
	list, err = b.client.ListWebhookDeliveriesWithResponse(ctx, id, nil, bearer(grace))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, list.StatusCode())

	retry, err := b.client.RetryWebhookDeliveryWithResponse(ctx, id, d.Id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, retry.StatusCode(), "a pending delivery is not re-sent")
	retry, err = b.client.RetryWebhookDeliveryWithResponse(ctx, id, created.JSON201.Data.OwnerId, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, retry.StatusCode(), "no such delivery")
	recovered, err := b.client.RecoverWebhookDeliveriesWithResponse(ctx, id, nil, api.RecoverWebhookDeliveriesRequest{Since: since}, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, recovered.StatusCode(), string(recovered.Body))
	require.Zero(t, recovered.JSON202.Data.Queued)
	for _, bad := range []time.Time{time.Now().Add(time.Hour), time.Now().Add(-31 * 24 * time.Hour)} {
		r, err := b.client.RecoverWebhookDeliveriesWithResponse(ctx, id, nil, api.RecoverWebhookDeliveriesRequest{Since: bad}, bearer(token))
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		require.Contains(t, string(r.Body), "since")
	}
	r := b.do(http.MethodGet, "/api/webhook-endpoints/"+id.String()+"/deliveries?status=lost", "", "", withToken(token)...)
	require.Equal(t, http.StatusBadRequest, r.status, string(r.body))

	_, err = b.client.PatchWebhookEndpointWithResponse(ctx, id, nil, api.PatchWebhookEndpointRequest{Enabled: ptr(false)}, bearer(token))
	require.NoError(t, err)
	test, err = b.client.TestWebhookEndpointWithResponse(ctx, id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, test.StatusCode(), "a disabled endpoint is enabled first")
}
