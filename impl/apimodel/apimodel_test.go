package apimodel_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/service"
)

// TestEveryWebhookPayloadIsItsSchema: the body of every event type validates, with kin-openapi, against the
// contract's WebhookPayload and against its own component, and carries the resource as the REST API returns it.
func TestEveryWebhookPayloadIsItsSchema(t *testing.T) {
	t.Parallel()
	doc, err := api.GetSpec()
	require.NoError(t, err)
	now := time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	user := uuid.New()
	post := service.Post{ID: uuid.New(), AuthorID: user, Title: "Notes", Content: "Body", Published: true, CreatedAt: now, UpdatedAt: now, PublishedAt: &now}
	comment := service.Comment{ID: uuid.New(), PostID: post.ID, AuthorID: user, Content: "Nice", CreatedAt: now}
	account := service.User{ID: user, Name: "Ada", Email: "ada@example.com", CreatedAt: now, UpdatedAt: now}
	payment := service.Payment{ID: "pi_1", UserID: &user, Amount: 500, Currency: "usd", Status: "succeeded", CreatedAt: now, UpdatedAt: now}
	subscription := service.Subscription{ID: "sub_1", Status: "active", CreatedAt: now, UpdatedAt: now}
	data := map[service.WebhookEventType]any{
		service.WebhookPostPublished: post, service.WebhookPostUpdated: post, service.WebhookPostDeleted: post,
		service.WebhookCommentCreated: comment, service.WebhookCommentDeleted: comment,
		service.WebhookUserCreated: account, service.WebhookUserDeleted: account,
		service.WebhookPaymentSucceeded: payment, service.WebhookPaymentFailed: payment,
		service.WebhookSubscriptionUpdated: subscription,
		service.WebhookTest:                service.WebhookTestData{EndpointID: uuid.New(), Message: "hello"},
	}
	require.Len(t, data, len(service.WebhookEventTypes()), "every type is tried")
	payload := doc.Components.Schemas["WebhookPayload"].Value
	for typ, d := range data {
		t.Run(string(typ), func(t *testing.T) {
			body, err := apimodel.EncodeWebhook(service.WebhookMessage{Type: typ, At: now, Data: d})
			require.NoError(t, err)
			var v any
			require.NoError(t, json.Unmarshal(body, &v))
			require.NoError(t, payload.VisitJSON(v), "WebhookPayload: %s", body)
			var p api.WebhookPayload
			require.NoError(t, json.Unmarshal(body, &p))
			got, err := p.Discriminator()
			require.NoError(t, err)
			require.Equal(t, string(typ), got)
			component, err := p.ValueByDiscriminator()
			require.NoError(t, err, "the discriminator maps %s to its component", typ)
			require.NotNil(t, component)
			require.Contains(t, string(body), `"timestamp":"2026-12-01T11:00:00.123456Z"`, "UTC, to the microsecond")
			if strings.HasPrefix(string(typ), "user.") {
				require.NotContains(t, string(body), "password", "never a hash")
			}
		})
	}
}

// TestAPayloadCarriesItsTypesResource: an event whose data is another resource than its type names is refused.
func TestAPayloadCarriesItsTypesResource(t *testing.T) {
	t.Parallel()
	_, err := apimodel.EncodeWebhook(service.WebhookMessage{Type: service.WebhookPostPublished, Data: service.Comment{}})
	require.ErrorContains(t, err, "post.published does not carry a comment")
	_, err = apimodel.EncodeWebhook(service.WebhookMessage{Type: service.WebhookPostPublished, Data: 42})
	require.Error(t, err)
}
