package endpoints_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/endpoints"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/servicetest"
	"github.com/junction-dev/junction/impl/stdwebhook"
)

const publicURL = "https://93.184.216.34/hooks/junction"

// signUp creates a user and returns a context that acts as them.
func signUp(t *testing.T, s *wire.Services, name string, role service.Role) context.Context {
	t.Helper()
	ctx := context.Background()
	u, err := s.Users.Create(ctx, service.CreateUserInput{Name: name, Email: strings.ToLower(name) + "@example.com", Password: "long enough"})
	require.NoError(t, err)
	return service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: role})
}

func create(t *testing.T, s *wire.Services, ctx context.Context, types ...service.WebhookEventType) service.NewWebhookSecret {
	t.Helper()
	if len(types) == 0 {
		types = []service.WebhookEventType{service.WebhookPostPublished}
	}
	e, err := s.Endpoints.Create(ctx, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: types})
	require.NoError(t, err)
	return e
}

// verify reports whether a delivery signed with keys verifies, with the official Standard Webhooks library, under
// secret.
func verify(t *testing.T, secret string, keys [][]byte) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	body := []byte(`{"type":"webhook.test","timestamp":"2026-12-01T00:00:00Z","data":{}}`)
	return wh.Verify(body, stdwebhook.Headers(keys, "msg_"+uuid.NewString(), time.Now(), body))
}

// TestTheSecretIsShownOnceAndSignsDeliveries: a created endpoint's secret comes back in that answer, is stored
// sealed (the table does not hold it), and the keys deliveries are signed with verify under it with the official
// Standard Webhooks library.
func TestTheSecretIsShownOnceAndSignsDeliveries(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	e := create(t, s, ada)
	require.True(t, strings.HasPrefix(e.Secret, stdwebhook.SecretPrefix), e.Secret)
	var sealed string
	require.NoError(t, pool.QueryRow(ada, "SELECT secret_sealed FROM webhook_endpoints WHERE id = $1", e.Endpoint.ID).Scan(&sealed))
	require.NotContains(t, sealed, strings.TrimPrefix(e.Secret, stdwebhook.SecretPrefix), "sealed at rest")

	keys, err := s.Endpoints.SigningKeys(context.Background(), e.Endpoint.ID)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NoError(t, verify(t, e.Secret, keys))
	other, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	require.Error(t, verify(t, other, keys), "and under no other secret")
}

// TestRotationOverlapsForADay: after a rotation deliveries carry both signatures, so a receiver verifies with
// either secret, until the overlap ends; then only the new one's.
func TestRotationOverlapsForADay(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sealer, err := auth.NewSealer([]byte(servicetest.Secret))
	require.NoError(t, err)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	eps := endpoints.New(core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil))), endpoints.Deps{
		Sealer: sealer, CheckURL: func(context.Context, string) error { return nil }, Now: clock,
	})

	first, err := eps.Create(ada, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: []service.WebhookEventType{service.WebhookTest}})
	require.NoError(t, err)
	second, err := eps.RotateSecret(ada, first.Endpoint.ID)
	require.NoError(t, err)
	require.NotEqual(t, first.Secret, second.Secret)
	keys, err := eps.SigningKeys(context.Background(), first.Endpoint.ID)
	require.NoError(t, err)
	require.Len(t, keys, 2, "newest first, then the one it replaced")
	require.NoError(t, verify(t, second.Secret, keys))
	require.NoError(t, verify(t, first.Secret, keys), "the old secret still verifies during the overlap")

	mu.Lock()
	now = now.Add(service.WebhookSecretOverlap + time.Second)
	mu.Unlock()
	keys, err = eps.SigningKeys(context.Background(), first.Endpoint.ID)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NoError(t, verify(t, second.Secret, keys))
	require.Error(t, verify(t, first.Secret, keys), "the overlap is over")
}

func TestEndpointInputIsChecked(t *testing.T) {
	t.Parallel()
	s := servicetest.New(t, dbtest.New(t), servicetest.Options{WebhookTargets: outbound.Policy{RequireHTTPS: true}})
	ada := signUp(t, s, "Ada", service.RoleUser)
	admin := signUp(t, s, "Root", service.RoleAdmin)
	posts := []service.WebhookEventType{service.WebhookPostPublished}
	tests := []struct {
		name  string
		ctx   context.Context
		in    service.CreateWebhookEndpointInput
		code  service.Code
		field string
	}{
		{"no url", ada, service.CreateWebhookEndpointInput{EventTypes: posts}, service.EINVALID, "url"},
		{"a url too long", ada, service.CreateWebhookEndpointInput{URL: publicURL + "?" + strings.Repeat("a", 2048), EventTypes: posts}, service.EINVALID, "url"},
		{"plain http in production", ada, service.CreateWebhookEndpointInput{URL: "http://93.184.216.34/", EventTypes: posts}, service.EINVALID, "url"},
		{"loopback", ada, service.CreateWebhookEndpointInput{URL: "https://127.0.0.1/", EventTypes: posts}, service.EINVALID, "url"},
		{"cloud metadata", ada, service.CreateWebhookEndpointInput{URL: "https://169.254.169.254/latest/meta-data", EventTypes: posts}, service.EINVALID, "url"},
		{"a private network", ada, service.CreateWebhookEndpointInput{URL: "https://10.0.0.7/", EventTypes: posts}, service.EINVALID, "url"},
		{"a description too long", ada, service.CreateWebhookEndpointInput{URL: publicURL, Description: strings.Repeat("d", 501), EventTypes: posts}, service.EINVALID, "description"},
		{"no event types", ada, service.CreateWebhookEndpointInput{URL: publicURL}, service.EINVALID, "eventTypes"},
		{"an unknown event type", ada, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: []service.WebhookEventType{"post.exploded"}}, service.EINVALID, "eventTypes"},
		{"a type twice", ada, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: append(posts, posts...)}, service.EINVALID, "eventTypes"},
		{"payments for a user", ada, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: []service.WebhookEventType{service.WebhookPaymentSucceeded}}, service.EFORBIDDEN, "eventTypes"},
		{"accounts for a user", ada, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: []service.WebhookEventType{service.WebhookUserCreated}}, service.EFORBIDDEN, "eventTypes"},
		{"anonymous", context.Background(), service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: posts}, service.EUNAUTHORIZED, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Endpoints.Create(tt.ctx, tt.in)
			pe, ok := service.Public(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tt.code, pe.Code, "%v", err)
			if tt.field != "" {
				require.Contains(t, pe.Fields, tt.field)
			}
		})
	}
	e, err := s.Endpoints.Create(admin, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: service.WebhookEventTypes()})
	require.NoError(t, err, "an admin's endpoint may take every type")
	require.Equal(t, service.WebhookEventTypes(), e.Endpoint.EventTypes)
	require.True(t, e.Endpoint.Enabled)
}

// TestEndpointsPerUserHoldUnderConcurrency: an account has at most WebhookEndpointsPerUser endpoints, even when
// its creates race.
func TestEndpointsPerUserHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	var wg sync.WaitGroup
	codes := make([]service.Code, 3*service.WebhookEndpointsPerUser)
	for i := range codes {
		wg.Go(func() {
			_, err := s.Endpoints.Create(ada, service.CreateWebhookEndpointInput{URL: publicURL, EventTypes: []service.WebhookEventType{service.WebhookTest}})
			if err != nil {
				codes[i] = service.ErrorCode(err)
			}
		})
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case "":
			created++
		default:
			require.Equal(t, service.ECONFLICT, c)
		}
	}
	require.Equal(t, service.WebhookEndpointsPerUser, created)
	page, err := s.Endpoints.List(ada, 1, 100)
	require.NoError(t, err)
	require.Equal(t, int64(service.WebhookEndpointsPerUser), page.Total)
}

// TestNobodyTouchesAnotherUsersEndpoint: to anyone but its owner (and admins) an endpoint does not exist.
func TestNobodyTouchesAnotherUsersEndpoint(t *testing.T) {
	t.Parallel()
	s := servicetest.New(t, dbtest.New(t), servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	grace := signUp(t, s, "Grace", service.RoleUser)
	admin := signUp(t, s, "Root", service.RoleAdmin)
	e := create(t, s, ada)
	id := e.Endpoint.ID
	for name, call := range map[string]func(ctx context.Context) error{
		"get": func(ctx context.Context) error { _, err := s.Endpoints.Get(ctx, id); return err },
		"update": func(ctx context.Context) error {
			_, err := s.Endpoints.Update(ctx, id, service.UpdateWebhookEndpointInput{Enabled: new(false)})
			return err
		},
		"rotate": func(ctx context.Context) error { _, err := s.Endpoints.RotateSecret(ctx, id); return err },
		"delete": func(ctx context.Context) error { return s.Endpoints.Delete(ctx, id) },
	} {
		require.Equal(t, service.ENOTFOUND, service.ErrorCode(call(grace)), name)
	}
	page, err := s.Endpoints.List(grace, 0, 0)
	require.NoError(t, err)
	require.Zero(t, page.Total, "nor is it in their list")
	got, err := s.Endpoints.Get(admin, id)
	require.NoError(t, err, "an admin sees it")
	require.Equal(t, e.Endpoint.URL, got.URL)
	require.NoError(t, s.Endpoints.Delete(ada, id))
	require.Equal(t, service.ENOTFOUND, service.ErrorCode(s.Endpoints.Delete(ada, id)))
}

// TestUpdatingAnEndpoint: the fields given change and the others stay; enabling again clears why Junction had
// disabled it.
func TestUpdatingAnEndpoint(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	e := create(t, s, ada, service.WebhookPostPublished, service.WebhookCommentCreated)
	_, err := s.Endpoints.Update(ada, e.Endpoint.ID, service.UpdateWebhookEndpointInput{})
	require.Equal(t, service.EINVALID, service.ErrorCode(err), "nothing to change")

	got, err := s.Endpoints.Update(ada, e.Endpoint.ID, service.UpdateWebhookEndpointInput{Description: new("CI hook")})
	require.NoError(t, err)
	require.Equal(t, "CI hook", got.Description)
	require.Equal(t, e.Endpoint.EventTypes, got.EventTypes)
	require.Equal(t, publicURL, got.URL)

	_, err = pool.Exec(ada, "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'gone' WHERE id = $1", e.Endpoint.ID)
	require.NoError(t, err)
	got, err = s.Endpoints.Get(ada, e.Endpoint.ID)
	require.NoError(t, err)
	require.False(t, got.Enabled)
	require.Equal(t, "gone", *got.DisabledReason)
	got, err = s.Endpoints.Update(ada, e.Endpoint.ID, service.UpdateWebhookEndpointInput{Enabled: new(true), EventTypes: []service.WebhookEventType{service.WebhookTest}})
	require.NoError(t, err)
	require.True(t, got.Enabled)
	require.Nil(t, got.DisabledReason)
	require.Equal(t, []service.WebhookEventType{service.WebhookTest}, got.EventTypes)
}

// TestOnlyTheOwnerChangesAnEndpoint: an admin may look at anyone's endpoint but not change, rotate (which would
// show them its secret) or delete it; and the event types an endpoint ends up with are judged by its owner's role
// now, so a demoted admin can neither keep admins' events on a changed endpoint nor re-point one.
func TestOnlyTheOwnerChangesAnEndpoint(t *testing.T) {
	t.Parallel()
	s := servicetest.New(t, dbtest.New(t), servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	root := signUp(t, s, "Root", service.RoleAdmin)
	e := create(t, s, ada)
	for name, call := range map[string]func() error{
		"update": func() error {
			_, err := s.Endpoints.Update(root, e.Endpoint.ID, service.UpdateWebhookEndpointInput{EventTypes: service.WebhookEventTypes()})
			return err
		},
		"rotate": func() error { _, err := s.Endpoints.RotateSecret(root, e.Endpoint.ID); return err },
		"delete": func() error { return s.Endpoints.Delete(root, e.Endpoint.ID) },
	} {
		require.Equal(t, service.ENOTFOUND, service.ErrorCode(call()), name)
	}

	admins := create(t, s, root, service.WebhookPaymentSucceeded, service.WebhookUserCreated)
	actor, _ := service.ActorFromContext(root)
	actor.Role = service.RoleUser // demoted since
	demoted := service.NewContextWithActor(context.Background(), actor)
	_, err := s.Endpoints.Update(demoted, admins.Endpoint.ID, service.UpdateWebhookEndpointInput{URL: new("https://93.184.216.35/elsewhere")})
	require.Equal(t, service.EFORBIDDEN, service.ErrorCode(err), "no re-pointing admins' events")
	_, err = s.Endpoints.Update(demoted, admins.Endpoint.ID, service.UpdateWebhookEndpointInput{Enabled: new(false)})
	require.NoError(t, err, "disabling it is always allowed")
	_, err = s.Endpoints.Update(demoted, admins.Endpoint.ID, service.UpdateWebhookEndpointInput{EventTypes: []service.WebhookEventType{service.WebhookTest}})
	require.NoError(t, err, "nor is dropping the admins' types")
}

// TestRefusedNamesAllReadAlike: a name that resolves to loopback and one that does not resolve get the same
// answer, so that the API tells nobody which internal names exist or what they point at; an address written out
// is named as what it is. A URL is printable ASCII, so what is stored is what is sent.
func TestRefusedNamesAllReadAlike(t *testing.T) {
	t.Parallel()
	s := servicetest.New(t, dbtest.New(t), servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	message := func(url string) []string {
		_, err := s.Endpoints.Create(ada, service.CreateWebhookEndpointInput{URL: url, EventTypes: []service.WebhookEventType{service.WebhookTest}})
		pe, ok := service.Public(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, service.EINVALID, pe.Code)
		return pe.Fields["url"]
	}
	require.Equal(t, message("https://localhost/hook"), message("https://no-such-host.invalid/hook"))
	require.Contains(t, message("https://127.0.0.1/hook")[0], "loopback", "a literal address is the caller's own words")

	for _, url := range []string{"https://93.184.216.34/" + strings.Repeat("é", 10), "https://93.184.216.34/ ", "https://93.184.216.34/\u202e", "https://93.184.216.34/a b"} {
		require.NotEmpty(t, message(url), "%q", url)
	}
}

// TestAFanOutRunAgainSendsOnlyWhatItDidNotRecord: a fan-out's deliveries are made as their first attempts are
// recorded; a fan-out that runs again (its job retried after a crash) returns only the endpoints whose attempt
// was not recorded, a success recorded twice makes one delivery, and a failure leaves a pending delivery with
// its retry queued.
func TestAFanOutRunAgainSendsOnlyWhatItDidNotRecord(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{WebhookSchedule: retry.Schedule{Delays: []time.Duration{time.Hour}}})
	ada := signUp(t, s, "Ada", service.RoleUser)
	for range 3 {
		create(t, s, ada)
	}
	_, err := s.Posts.Create(ada, service.CreatePostInput{Title: "Heard", Content: "By three", Published: true})
	require.NoError(t, err)
	var msg uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_messages").Scan(&msg))

	first, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Len(t, first, 3)
	for _, tg := range first {
		require.True(t, tg.New && tg.Deliver, "made when recorded")
		require.Equal(t, 1, tg.Attempt)
		require.Equal(t, first[0].Body, tg.Body, "every endpoint gets the same body")
		require.Contains(t, string(tg.Body), `"post.published"`)
	}
	var made int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM webhook_deliveries").Scan(&made))
	require.Zero(t, made, "a fan-out writes nothing before its attempts")

	require.NoError(t, s.Endpoints.RecordAll(context.Background(), []service.AttemptResult{attemptResult(first[0], 200), attemptResult(first[1], 500)}))
	again, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Len(t, again, 1, "only the unrecorded one again")
	require.Equal(t, first[2].EndpointID, again[0].EndpointID)

	// The first run's success, recorded once more (its job ran twice), changes nothing.
	require.NoError(t, s.Endpoints.RecordAll(context.Background(), []service.AttemptResult{attemptResult(first[0], 200), attemptResult(again[0], 204)}))
	rows, err := pool.Query(context.Background(), `SELECT d.endpoint_id, d.status, d.attempts, d.next_attempt_at IS NOT NULL,
		(SELECT count(*) FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id) FROM webhook_deliveries d`)
	require.NoError(t, err)
	type state struct {
		status   string
		attempts int
		next     bool
		logged   int
	}
	got := map[uuid.UUID]state{}
	for rows.Next() {
		var id uuid.UUID
		var st state
		require.NoError(t, rows.Scan(&id, &st.status, &st.attempts, &st.next, &st.logged))
		got[id] = st
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[uuid.UUID]state{
		first[0].EndpointID: {status: "succeeded", attempts: 1, logged: 1},
		first[1].EndpointID: {status: "pending", attempts: 1, next: true, logged: 1},
		first[2].EndpointID: {status: "succeeded", attempts: 1, logged: 1},
	}, got)
	var early int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries d
		WHERE d.created_at > (SELECT min(a.attempted_at) FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id)`).Scan(&early))
	require.Zero(t, early, "no delivery is made after its first attempt, as the log shows them")
	var retries int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'").Scan(&retries))
	require.Equal(t, 1, retries, "the failure's next attempt is queued with its record")
	done, err := s.Endpoints.FanOut(context.Background(), msg)
	require.NoError(t, err)
	require.Empty(t, done)
}

// TestDeletingAnEndpointDeletesItsDeliveries: an endpoint's deliveries go with it, whether it is deleted itself or
// with its owner's account (a trigger, not a foreign key, does it), and nobody else's are touched.
func TestDeletingAnEndpointDeletesItsDeliveries(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada := signUp(t, s, "Ada", service.RoleUser)
	grace := signUp(t, s, "Grace", service.RoleUser)
	deliveries := func(endpoint uuid.UUID) int {
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", endpoint).Scan(&n))
		return n
	}
	deliver := func(ctx context.Context) {
		_, err := s.Posts.Create(ctx, service.CreatePostInput{Title: "Heard", Content: "Once", Published: true})
		require.NoError(t, err)
		var msg uuid.UUID
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT id FROM webhook_messages ORDER BY created_at DESC LIMIT 1").Scan(&msg))
		targets, err := s.Endpoints.FanOut(context.Background(), msg)
		require.NoError(t, err)
		var rs []service.AttemptResult
		for _, tg := range targets {
			rs = append(rs, attemptResult(tg, 204))
		}
		require.NoError(t, s.Endpoints.RecordAll(context.Background(), rs))
	}
	first, second, graces := create(t, s, ada), create(t, s, ada), create(t, s, grace)
	deliver(ada)
	deliver(grace)
	require.Equal(t, 1, deliveries(first.Endpoint.ID))
	require.Equal(t, 1, deliveries(graces.Endpoint.ID))

	require.NoError(t, s.Endpoints.Delete(ada, first.Endpoint.ID))
	require.Zero(t, deliveries(first.Endpoint.ID))
	require.Equal(t, 1, deliveries(second.Endpoint.ID), "the owner's other endpoint keeps its own")

	actor, _ := service.ActorFromContext(grace)
	require.NoError(t, s.Users.Delete(grace, actor.UserID, service.MatchAny()))
	require.Zero(t, deliveries(graces.Endpoint.ID), "gone with the account")
	require.Equal(t, 1, deliveries(second.Endpoint.ID))
}
