package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
)

// delivery is one request the receiver got.
type delivery struct {
	header http.Header
	body   []byte
	at     time.Time
}

// answer is how the receiver answers a request: a status, headers, a body, and how long it waits first.
type answer struct {
	status int
	header map[string]string
	body   string
	hang   time.Duration
}

// receiver is a real HTTP server on loopback that records what Junction sends and answers as told: by default
// 200, else whatever answer returns for the n-th request (from 1).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(n int) answer
}

func newReceiver(t *testing.T, answer func(n int) answer) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{header: req.Header.Clone(), body: body, at: time.Now()})
		n := len(r.got)
		r.mu.Unlock()
		a := answer(n)
		if a.hang > 0 {
			select {
			case <-time.After(a.hang):
			case <-req.Context().Done():
				return
			}
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(r.Close)
	return r
}

func always(a answer) func(int) answer { return func(int) answer { return a } }

var ok = answer{status: http.StatusOK, body: "thanks"}

// wait returns the first n requests once they have come.
func (r *receiver) wait(t *testing.T, n int) []delivery {
	t.Helper()
	var got []delivery
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = append([]delivery(nil), r.got...)
		return len(got) >= n
	}, 20*time.Second, 10*time.Millisecond, "the receiver got %d requests, want %d", len(got), n)
	return got[:n]
}

// count is how many requests came so far.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// actor signs up a user (an admin with admin) and returns a context that acts as them.
func (b *testBundle) actor(t *testing.T, name string, admin bool) (context.Context, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	u, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: name, Email: strings.ToLower(name) + "@example.com", Password: "long enough"})
	require.NoError(t, err)
	role := service.RoleUser
	if admin {
		require.NoError(t, b.svc.Accounts.GrantAdmin(ctx, u.Email))
		role = service.RoleAdmin
	}
	return service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: role}), u.ID
}

func (b *testBundle) endpoint(t *testing.T, ctx context.Context, url string, types ...service.WebhookEventType) service.NewWebhookSecret {
	t.Helper()
	e, err := b.svc.Endpoints.Create(ctx, service.CreateWebhookEndpointInput{URL: url, EventTypes: types})
	require.NoError(t, err)
	return e
}

// deliveries waits until endpoint id's deliveries are all settled (none pending) and there are n, and returns them.
func (b *testBundle) deliveries(t *testing.T, ctx context.Context, id uuid.UUID, n int) []service.WebhookDelivery {
	t.Helper()
	var got []service.WebhookDelivery
	require.Eventually(t, func() bool {
		page, err := b.svc.Endpoints.ListDeliveries(ctx, id, service.ListWebhookDeliveriesParams{Page: 1, Limit: 100})
		require.NoError(t, err)
		got = page.Deliveries
		for _, d := range got {
			if d.Status == service.DeliveryPending {
				return false
			}
		}
		return len(got) == n
	}, 20*time.Second, 20*time.Millisecond, "deliveries: %+v", got)
	return got
}

// verify checks d with the official Standard Webhooks library under secret, and decodes its body.
func verify(t *testing.T, secret string, d delivery) api.WebhookPayload {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(d.body, d.header), "signature")
	var p api.WebhookPayload
	require.NoError(t, json.Unmarshal(d.body, &p))
	return p
}

func publish(t *testing.T, b *testBundle, ctx context.Context, title string) service.Post {
	t.Helper()
	p, err := b.svc.Posts.Create(ctx, service.CreatePostInput{Title: title, Content: "Body of " + title, Published: true})
	require.NoError(t, err)
	return p
}

// TestADeliveryIsSignedAsTheSpecificationSays: a published post reaches its author's endpoint as a POST that the
// official Standard Webhooks library verifies, whose body is the contract's PostPublishedEvent carrying the post
// as the REST API returns it, with the spec's headers; the log records the attempt and the first 1 KiB of the
// answer.
func TestADeliveryIsSignedAsTheSpecificationSays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, adaID := b.actor(t, "Ada", false)
	r := newReceiver(t, always(answer{status: http.StatusOK, body: strings.Repeat("é", 2000)}))
	e := b.endpoint(t, ada, r.URL+"/hooks", service.WebhookPostPublished)
	post := publish(t, b, ada, "Notes")

	d := r.wait(t, 1)[0]
	p := verify(t, e.Secret, d)
	typ, err := p.Discriminator()
	require.NoError(t, err)
	require.Equal(t, "post.published", typ)
	ev, err := p.AsPostPublishedEvent()
	require.NoError(t, err)
	require.Equal(t, post.ID, ev.Data.Id)
	require.Equal(t, adaID, ev.Data.AuthorId)
	require.Equal(t, "Notes", ev.Data.Title)
	require.WithinDuration(t, time.Now(), ev.Timestamp, time.Minute)
	require.Equal(t, "application/json", d.header.Get("Content-Type"))
	require.Equal(t, jobs.UserAgent, d.header.Get("User-Agent"))

	got := b.deliveries(t, ada, e.Endpoint.ID, 1)[0]
	require.Equal(t, service.DeliverySucceeded, got.Status)
	require.Equal(t, d.header.Get("webhook-id"), got.EventID.String(), "webhook-id is the event id")
	require.Equal(t, service.WebhookPostPublished, got.EventType)
	require.Len(t, got.Attempts, 1)
	a := got.Attempts[0]
	require.Equal(t, http.StatusOK, a.StatusCode)
	require.Empty(t, a.Error)
	require.Nil(t, a.NextAttemptAt)
	require.Equal(t, strings.Repeat("é", 512), a.Response, "the first 1 KiB of the answer")
}

// TestFailuresAreRetriedOnTheScheduleThenFail: a receiver that keeps failing gets every attempt of the schedule,
// each signed anew with the same webhook-id, and then the delivery fails; a redirect and a receiver that hangs
// past the timeout are failures too.
func TestFailuresAreRetriedOnTheScheduleThenFail(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{schedule: retry.Schedule{Delays: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}}})
	ada, _ := b.actor(t, "Ada", false)
	answers := []answer{
		{status: http.StatusInternalServerError, body: "oops"},
		{status: http.StatusFound, header: map[string]string{"Location": "http://127.0.0.1:1/elsewhere"}},
		{status: http.StatusOK, hang: 5 * time.Second},
	}
	r := newReceiver(t, func(n int) answer { return answers[min(n, len(answers))-1] })
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	publish(t, b, ada, "Notes")

	got := r.wait(t, 3)
	for _, d := range got {
		verify(t, e.Secret, d)
		require.Equal(t, got[0].header.Get("webhook-id"), d.header.Get("webhook-id"))
	}
	require.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 150*time.Millisecond, "the first delay, less its jitter")
	require.GreaterOrEqual(t, got[2].at.Sub(got[1].at), 300*time.Millisecond, "the second")

	d := b.deliveries(t, ada, e.Endpoint.ID, 1)[0]
	require.Equal(t, service.DeliveryFailed, d.Status)
	require.Equal(t, 3, d.AttemptCount)
	require.Len(t, d.Attempts, 3)
	require.Equal(t, http.StatusInternalServerError, d.Attempts[0].StatusCode)
	require.Equal(t, "oops", d.Attempts[0].Response)
	require.NotNil(t, d.Attempts[0].NextAttemptAt)
	require.Equal(t, http.StatusFound, d.Attempts[1].StatusCode, "a redirect is not followed")
	require.Zero(t, d.Attempts[2].StatusCode)
	require.Equal(t, "timed out", d.Attempts[2].Error)
	require.Nil(t, d.Attempts[2].NextAttemptAt, "the last attempt")
	require.Equal(t, 3, r.count(), "nothing after the schedule")
}

// TestRetryAfterIsHonouredWithinBounds: a 429's Retry-After stretches the next delay, but to twice the scheduled
// one at most.
func TestRetryAfterIsHonouredWithinBounds(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{schedule: retry.Schedule{Delays: []time.Duration{300 * time.Millisecond}}})
	ada, _ := b.actor(t, "Ada", false)
	r := newReceiver(t, func(n int) answer {
		if n == 1 {
			return answer{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "3600"}}
		}
		return ok
	})
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	publish(t, b, ada, "Notes")
	got := r.wait(t, 2)
	gap := got[1].at.Sub(got[0].at)
	require.GreaterOrEqual(t, gap, 550*time.Millisecond, "twice the scheduled delay (less the time to connect)")
	require.Less(t, gap, 5*time.Second, "not the hour asked for")
	d := b.deliveries(t, ada, e.Endpoint.ID, 1)[0]
	require.Equal(t, service.DeliverySucceeded, d.Status)
	require.Equal(t, 2, d.AttemptCount)
}

// TestGoneDisablesTheEndpointAndTellsItsOwner: a 410 ends the delivery and disables the endpoint at once; its
// owner is emailed; nothing more is sent until it is enabled again, and then a recovery re-sends what failed.
func TestGoneDisablesTheEndpointAndTellsItsOwner(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{schedule: retry.Schedule{Delays: []time.Duration{time.Hour}}})
	ada, _ := b.actor(t, "Ada", false)
	gone := true
	var mu sync.Mutex
	r := newReceiver(t, func(int) answer {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return answer{status: http.StatusGone}
		}
		return ok
	})
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	publish(t, b, ada, "First")
	r.wait(t, 1)
	d := b.deliveries(t, ada, e.Endpoint.ID, 1)[0]
	require.Equal(t, service.DeliveryFailed, d.Status, "no retry after a 410")
	ep, err := b.svc.Endpoints.Get(ada, e.Endpoint.ID)
	require.NoError(t, err)
	require.False(t, ep.Enabled)
	require.Equal(t, service.DisabledGone, *ep.DisabledReason)
	mail := b.smtp.WaitAccepted(t, 2, 20*time.Second) // the welcome, then the notice
	require.Equal(t, "Junction disabled one of your webhook endpoints", mail[1].Header.Get("Subject"))
	require.Contains(t, mail[1].Body(), "410 Gone")

	publish(t, b, ada, "Second")
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, r.count(), "a disabled endpoint receives nothing")

	mu.Lock()
	gone = false
	mu.Unlock()
	_, err = b.svc.Endpoints.Update(ada, e.Endpoint.ID, service.UpdateWebhookEndpointInput{Enabled: new(true)})
	require.NoError(t, err)
	n, err := b.svc.Endpoints.Recover(ada, e.Endpoint.ID, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got := r.wait(t, 2)
	p := verify(t, e.Secret, got[1])
	ev, err := p.AsPostPublishedEvent()
	require.NoError(t, err)
	require.Equal(t, "First", ev.Data.Title)
	d = b.deliveries(t, ada, e.Endpoint.ID, 1)[0]
	require.Equal(t, service.DeliverySucceeded, d.Status)
	require.Equal(t, 2, d.AttemptCount)
}

// TestFiveDaysOfFailuresDisable: an endpoint whose deliveries all fail is disabled once the first of the streak
// is 5 days old; a success in between starts the count again.
func TestFiveDaysOfFailuresDisable(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	b := setupWith(t, setupOptions{now: clock})
	ada, _ := b.actor(t, "Ada", false)
	failing := true
	r := newReceiver(t, func(int) answer {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return answer{status: http.StatusInternalServerError}
		}
		return ok
	})
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	enabled := func() bool {
		ep, err := b.svc.Endpoints.Get(ada, e.Endpoint.ID)
		require.NoError(t, err)
		return ep.Enabled
	}
	send := func(n int) {
		publish(t, b, ada, "Post")
		b.deliveries(t, ada, e.Endpoint.ID, n)
	}

	send(1) // the streak starts
	advance(4 * 24 * time.Hour)
	send(2)
	require.True(t, enabled(), "4 days")
	mu.Lock()
	failing = false
	mu.Unlock()
	send(3) // a success ends the streak
	mu.Lock()
	failing = true
	mu.Unlock()
	advance(2 * 24 * time.Hour)
	send(4) // a new one starts
	require.True(t, enabled(), "6 days since the first failure, 0 since the streak began")
	advance(5*24*time.Hour + time.Minute)
	send(5)
	require.False(t, enabled(), "5 days of failures")
	ep, err := b.svc.Endpoints.Get(ada, e.Endpoint.ID)
	require.NoError(t, err)
	require.Equal(t, service.DisabledFailing, *ep.DisabledReason)
	mail := b.smtp.WaitAccepted(t, 2, 20*time.Second)
	require.Contains(t, mail[1].Body(), "failed for 5 days")
}

// TestARolledBackWriteSendsNothing: a write whose transaction fails at its commit (a deferred constraint) leaves
// neither an event nor a delivery, and nothing is sent; the same write that commits is delivered.
func TestARolledBackWriteSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.pool.Exec(ctx, `
		CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.title = 'boom' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NEW; END $$;
		CREATE CONSTRAINT TRIGGER refuse_boom AFTER INSERT ON posts DEFERRABLE INITIALLY DEFERRED
		FOR EACH ROW EXECUTE FUNCTION refuse_boom();`)
	require.NoError(t, err)
	ada, _ := b.actor(t, "Ada", false)
	r := newReceiver(t, always(ok))
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)

	_, err = b.svc.Posts.Create(ada, service.CreatePostInput{Title: "boom", Content: "x", Published: true})
	require.ErrorContains(t, err, "refused at commit")
	publish(t, b, ada, "fine")
	got := r.wait(t, 1)
	ev, err := verify(t, e.Secret, got[0]).AsPostPublishedEvent()
	require.NoError(t, err)
	require.Equal(t, "fine", ev.Data.Title)
	var messages int
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM webhook_messages").Scan(&messages))
	require.Equal(t, 1, messages, "the rolled-back write left no event")
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 1, r.count())
}

// TestWhoHearsOfWhat: an endpoint hears of its owner's posts and of comments on them, never of anyone else's; an
// admin's hears of everyone's published ones; a draft's events reach its author's endpoint only.
func TestWhoHearsOfWhat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, _ := b.actor(t, "Ada", false)
	bob, _ := b.actor(t, "Bob", false)
	grace, _ := b.actor(t, "Grace", true)
	all := []service.WebhookEventType{service.WebhookPostPublished, service.WebhookPostUpdated, service.WebhookCommentCreated}
	ra, rb, rg := newReceiver(t, always(ok)), newReceiver(t, always(ok)), newReceiver(t, always(ok))
	ea, eb, eg := b.endpoint(t, ada, ra.URL, all...), b.endpoint(t, bob, rb.URL, all...), b.endpoint(t, grace, rg.URL, all...)

	draft, err := b.svc.Posts.Create(ada, service.CreatePostInput{Title: "Secret plans", Content: "x"})
	require.NoError(t, err)
	_, err = b.svc.Posts.Update(ada, draft.ID, service.UpdatePostInput{Title: new("Secret plans, revised")})
	require.NoError(t, err)
	_, err = b.svc.Comments.Create(ada, draft.ID, "a note to self")
	require.NoError(t, err)
	_, err = b.svc.Posts.Publish(ada, draft.ID, service.MatchAny())
	require.NoError(t, err)
	_, err = b.svc.Comments.Create(bob, draft.ID, "Nice")
	require.NoError(t, err)

	types := func(r *receiver, secret string, n int) []string {
		var out []string
		for _, d := range r.wait(t, n) {
			typ, err := verify(t, secret, d).Discriminator()
			require.NoError(t, err)
			out = append(out, typ)
		}
		return out
	}
	b.deliveries(t, ada, ea.Endpoint.ID, 4)
	b.deliveries(t, grace, eg.Endpoint.ID, 2)
	require.ElementsMatch(t, []string{"post.updated", "comment.created", "post.published", "comment.created"}, types(ra, ea.Secret, 4))
	require.ElementsMatch(t, []string{"post.published", "comment.created"}, types(rg, eg.Secret, 2), "no draft's events")
	time.Sleep(200 * time.Millisecond)
	require.Zero(t, rb.count(), "Bob's comment is on Ada's post: his endpoint hears nothing")
	require.Equal(t, 4, ra.count())
	require.Equal(t, 2, rg.count())
	for _, d := range rg.got {
		require.NotContains(t, string(d.body), "a note to self")
	}
	_ = eb
}

// TestRotationSignsWithBothSecrets: during the overlap every delivery verifies, with the official library, under
// the old secret and under the new one.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, _ := b.actor(t, "Ada", false)
	r := newReceiver(t, always(ok))
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	rotated, err := b.svc.Endpoints.RotateSecret(ada, e.Endpoint.ID)
	require.NoError(t, err)
	publish(t, b, ada, "Notes")
	d := r.wait(t, 1)[0]
	require.Len(t, strings.Fields(d.header.Get("webhook-signature")), 2)
	verify(t, e.Secret, d)
	verify(t, rotated.Secret, d)
}

// TestTestRetryAndRecover: a test event goes to the endpoint whatever it takes; a failed delivery is re-sent once
// by retry; a recovery re-sends every failed one in the order of their events.
func TestTestRetryAndRecover(t *testing.T) {
	t.Parallel()
	b := setup(t) // no retries: every failure is final
	ada, _ := b.actor(t, "Ada", false)
	var mu sync.Mutex
	failing := true
	r := newReceiver(t, func(int) answer {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return answer{status: http.StatusServiceUnavailable}
		}
		return ok
	})
	e := b.endpoint(t, ada, r.URL, service.WebhookPostPublished)
	test, err := b.svc.Endpoints.Test(ada, e.Endpoint.ID)
	require.NoError(t, err)
	require.Equal(t, service.WebhookTest, test.EventType)
	for _, title := range []string{"one", "two", "three"} {
		publish(t, b, ada, title)
		b.deliveries(t, ada, e.Endpoint.ID, 1+map[string]int{"one": 1, "two": 2, "three": 3}[title])
	}
	got := b.deliveries(t, ada, e.Endpoint.ID, 4)
	for _, d := range got {
		require.Equal(t, service.DeliveryFailed, d.Status)
	}
	mu.Lock()
	failing = false
	mu.Unlock()

	retried, err := b.svc.Endpoints.Retry(ada, e.Endpoint.ID, test.ID)
	require.NoError(t, err)
	require.Equal(t, service.DeliveryPending, retried.Status)
	tp, err := verify(t, e.Secret, r.wait(t, 5)[4]).AsWebhookTestEvent()
	require.NoError(t, err)
	require.Equal(t, e.Endpoint.ID, tp.Data.EndpointId)
	_, err = b.svc.Endpoints.Retry(ada, e.Endpoint.ID, test.ID)
	require.Error(t, err, "only a failed delivery is re-sent")

	n, err := b.svc.Endpoints.Recover(ada, e.Endpoint.ID, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	var titles []string
	for _, d := range r.wait(t, 8)[5:] {
		ev, err := verify(t, e.Secret, d).AsPostPublishedEvent()
		require.NoError(t, err)
		titles = append(titles, ev.Data.Title)
	}
	require.Equal(t, []string{"one", "two", "three"}, titles, "in event order")
	for _, d := range b.deliveries(t, ada, e.Endpoint.ID, 4) {
		require.Equal(t, service.DeliverySucceeded, d.Status)
	}
}

// TestAFanOutToManyEndpointsSpreadsOverJobs: a message that reaches more endpoints than a fan-out sends itself
// reaches them all; the ones past service.WebhookFanOutInline go out as jobs of their own.
func TestAFanOutToManyEndpointsSpreadsOverJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := newReceiver(t, always(ok))
	const admins = 6
	for i := range admins {
		admin, _ := b.actor(t, fmt.Sprintf("Admin%d", i), true)
		for range service.WebhookEndpointsPerUser {
			b.endpoint(t, admin, r.URL, service.WebhookPostPublished)
		}
	}
	ada, _ := b.actor(t, "Ada", false)
	publish(t, b, ada, "Everyone hears")
	const want = admins * service.WebhookEndpointsPerUser
	got := r.wait(t, want)
	ids := map[string]bool{}
	for _, d := range got {
		ids[d.header.Get("webhook-id")] = true
	}
	require.Len(t, ids, 1, "one event")
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'").Scan(&n))
		return n == want
	}, 20*time.Second, 20*time.Millisecond)
	var jobs int
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'").Scan(&jobs))
	require.Equal(t, want-service.WebhookFanOutInline, jobs)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, want, r.count(), "each once")
}
