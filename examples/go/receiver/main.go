// Command receiver shows the receiving side of Junction's webhooks (docs/webhooks.md) with the Go SDK: it listens
// on loopback, registers that address as a webhook endpoint, makes Junction send events to it (a test event, a
// post published and edited, a reader's comment), verifies each delivery with the Standard Webhooks library,
// decodes it as an api.WebhookPayload, and checks that a replay is taken once and a tampered body refused. It exits non-zero if an
// expected event does not arrive verified within 30 s, if any delivery fails verification, or if an event
// arrives that this endpoint should not hear of.
//
// Junction must be allowed to send to loopback (WEBHOOK_ALLOW_PRIVATE_TARGETS, on by default with
// APP_ENV=development), and run its workers (as `serve` does by default):
//
//	JUNCTION_URL=http://localhost:8080 go run ./examples/go/receiver
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/junction-dev/junction/gen/api"
)

// waitFor bounds the wait for the deliveries: the first attempt is made at once, and a short retry schedule
// (make e2e's is 1s,2s) fits both retries in it.
const waitFor = 30 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, envOr("JUNCTION_URL", "http://localhost:8080"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, baseURL string, out io.Writer) error {
	author, err := signUp(ctx, baseURL, "Webhook receiver")
	if err != nil {
		return fmt.Errorf("the author: %w", err)
	}
	reader, err := signUp(ctx, baseURL, "A reader")
	if err != nil {
		return fmt.Errorf("the reader: %w", err)
	}

	rc := newReceiver()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hookURL := "http://" + ln.Addr().String() + "/webhooks/junction"

	description := "the Go SDK's receiver example"
	created, err := author.CreateWebhookEndpointWithResponse(ctx, api.CreateWebhookEndpointRequest{
		Url: hookURL, Description: &description,
		EventTypes: api.WebhookEventTypes{
			api.WebhookEventTypePostPublished, api.WebhookEventTypePostUpdated,
			api.WebhookEventTypeCommentCreated, api.WebhookEventTypeWebhookTest,
		},
	})
	if err != nil {
		return fmt.Errorf("register the endpoint: %w", err)
	}
	if created.JSON201 == nil {
		return fmt.Errorf("register the endpoint: %s %s", created.Status(), created.Body)
	}
	endpoint := created.JSON201.Data
	// The secret is in this answer only: a real receiver stores it now, as it would a password.
	wh, err := standardwebhooks.NewWebhook(endpoint.Secret)
	if err != nil {
		return fmt.Errorf("the endpoint's secret: %w", err)
	}
	rc.verifier.Store(wh)
	fmt.Fprintf(out, "endpoint %s registered for %s, listening on %s\n", endpoint.Id, endpoint.EventTypes, hookURL)

	expected, err := trigger(ctx, author, reader, endpoint.Id)
	if err != nil {
		return err
	}
	last, err := await(ctx, rc, expected, out)
	if err != nil {
		if log := deliveryLog(ctx, author, endpoint.Id); log != "" {
			err = fmt.Errorf("%w\nthe endpoint's delivery log:\n%s", err, log)
		}
		return err
	}
	if err := replay(ctx, rc, hookURL, last); err != nil {
		return err
	}
	fmt.Fprintln(out, "every expected event arrived verified; a replay was acknowledged once, a tampered body refused")
	return nil
}

// trigger makes Junction send one event of each type the endpoint takes, and returns what each is about.
func trigger(ctx context.Context, author, reader *api.ClientWithResponses, endpointID api.WebhookEndpointID) (map[subject]bool, error) {
	expected := map[subject]bool{}

	test, err := author.TestWebhookEndpointWithResponse(ctx, endpointID, nil)
	if err != nil {
		return nil, fmt.Errorf("send a test event: %w", err)
	}
	if test.JSON202 == nil {
		return nil, fmt.Errorf("send a test event: %s %s", test.Status(), test.Body)
	}
	expected[subject{string(api.WebhookEventTypeWebhookTest), endpointID.String()}] = true

	// A draft tells nobody but its author; publishing it is the event.
	draft := false
	post, err := author.CreatePostWithResponse(ctx, nil, api.CreatePostRequest{
		Title: "Webhooks, received", Content: "Verified before decoded.", Published: &draft,
	})
	if err != nil {
		return nil, fmt.Errorf("write a draft: %w", err)
	}
	if post.JSON201 == nil {
		return nil, fmt.Errorf("write a draft: %s %s", post.Status(), post.Body)
	}
	postID := post.JSON201.Data.Id
	published, err := author.PublishPostWithResponse(ctx, postID, nil)
	if err != nil {
		return nil, fmt.Errorf("publish the post: %w", err)
	}
	if published.JSON200 == nil {
		return nil, fmt.Errorf("publish the post: %s %s", published.Status(), published.Body)
	}
	expected[subject{string(api.WebhookEventTypePostPublished), postID.String()}] = true

	title := "Webhooks, received and verified"
	patched, err := author.PatchPostWithResponse(ctx, postID, nil, api.PatchPostRequest{Title: &title})
	if err != nil {
		return nil, fmt.Errorf("edit the post: %w", err)
	}
	if patched.JSON200 == nil {
		return nil, fmt.Errorf("edit the post: %s %s", patched.Status(), patched.Body)
	}
	expected[subject{string(api.WebhookEventTypePostUpdated), postID.String()}] = true

	// Someone else's comment on the author's post reaches the author's endpoints.
	comment, err := reader.CreateCommentWithResponse(ctx, postID, nil, api.CreateCommentRequest{Content: "Signed, sealed, delivered."})
	if err != nil {
		return nil, fmt.Errorf("comment: %w", err)
	}
	if comment.JSON201 == nil {
		return nil, fmt.Errorf("comment: %s %s", comment.Status(), comment.Body)
	}
	expected[subject{string(api.WebhookEventTypeCommentCreated), comment.JSON201.Data.Id.String()}] = true
	return expected, nil
}

// await takes deliveries until every expected event has arrived verified, and returns the last one. Any refused
// delivery, and any event not expected (someone else's post, a type not subscribed), is an error.
func await(ctx context.Context, rc *receiver, expected map[subject]bool, out io.Writer) (delivery, error) {
	timeout := time.NewTimer(waitFor)
	defer timeout.Stop()
	var last delivery
	for len(expected) > 0 {
		select {
		case d := <-rc.deliveries:
			if d.err != nil {
				return last, fmt.Errorf("delivery %s refused: %w", d.id, d.err)
			}
			s, summary, err := about(d.payload)
			if err != nil {
				return last, fmt.Errorf("delivery %s: %w", d.id, err)
			}
			if !expected[s] {
				return last, fmt.Errorf("delivery %s: %s about %q, which this endpoint should not hear of", d.id, s.eventType, s.id)
			}
			delete(expected, s)
			fmt.Fprintf(out, "verified %s (webhook-id %s): %s\n", s.eventType, d.id, summary)
			last = d
		case <-timeout.C:
			missing := make([]string, 0, len(expected))
			for s := range expected {
				missing = append(missing, s.eventType)
			}
			return last, fmt.Errorf("no verified delivery of %v within %s", missing, waitFor)
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
	return last, nil
}

// replay sends the receiver a delivery it took once more, headers as they were: intact, it is acknowledged and
// not acted on again (a retry after a lost answer looks like this); with the body changed to claim another event
// type, Junction's signature no longer matches, so it is answered 400 and never reaches the application.
func replay(ctx context.Context, rc *receiver, hookURL string, original delivery) error {
	status, err := post(ctx, hookURL, original.header, original.body)
	if err != nil {
		return fmt.Errorf("replay a delivery: %w", err)
	}
	if status != http.StatusNoContent {
		return fmt.Errorf("a replayed delivery was answered %d, want 204", status)
	}
	select {
	case d := <-rc.deliveries:
		return fmt.Errorf("a replayed delivery was taken again: %+v", d)
	default:
	}

	t, err := original.payload.Discriminator()
	if err != nil {
		return fmt.Errorf("the original's type: %w", err)
	}
	tampered := bytes.Replace(original.body, []byte(`"`+t+`"`), []byte(`"post.deleted"`), 1)
	status, err = post(ctx, hookURL, original.header, tampered)
	if err != nil {
		return fmt.Errorf("send a tampered body: %w", err)
	}
	if status != http.StatusBadRequest {
		return fmt.Errorf("a tampered body was answered %d, want 400", status)
	}
	if d := <-rc.deliveries; !errors.Is(d.err, standardwebhooks.ErrNoMatchingSignature) {
		return fmt.Errorf("a tampered body was refused for %v, want no matching signature", d.err)
	}
	return nil
}

// post sends body to url with header and returns the answer's status.
func post(ctx context.Context, url string, header http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// deliveryLog renders the endpoint's delivery log, Junction's side of the story, for a failure's message.
func deliveryLog(ctx context.Context, client *api.ClientWithResponses, endpointID api.WebhookEndpointID) string {
	list, err := client.ListWebhookDeliveriesWithResponse(ctx, endpointID, nil)
	if err != nil || list.JSON200 == nil {
		return ""
	}
	var b bytes.Buffer
	for _, d := range list.JSON200.Data {
		fmt.Fprintf(&b, "  %s %s: %s after %d attempt(s)\n", d.EventType, d.EventId, d.Status, d.AttemptCount)
		for _, a := range d.Attempts {
			answer := "no answer"
			if a.StatusCode != nil {
				answer = fmt.Sprintf("HTTP %d %q", *a.StatusCode, a.Response)
			}
			if a.Error != nil {
				answer += ": " + *a.Error
			}
			fmt.Fprintf(&b, "    attempt %d at %s: %s\n", a.Attempt, a.AttemptedAt.Format(time.RFC3339), answer)
		}
	}
	return b.String()
}

// signUp creates an account with a unique email and returns a client signed in as it.
func signUp(ctx context.Context, baseURL, name string) (*api.ClientWithResponses, error) {
	var token string
	client, err := api.NewClientWithResponses(baseURL, api.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	email := fmt.Sprintf("go-receiver-%d@example.com", time.Now().UnixNano())
	password := "correct horse battery"
	created, err := client.CreateUserWithResponse(ctx, nil, api.CreateUserRequest{Name: name, Email: email, Password: &password})
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	if created.JSON201 == nil {
		return nil, fmt.Errorf("sign up: %s %s", created.Status(), created.Body)
	}
	login, err := client.CreateTokenWithResponse(ctx, api.TokenRequest{Email: email, Password: &password})
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if login.JSON200 == nil {
		return nil, fmt.Errorf("sign in: %s %s", login.Status(), login.Body)
	}
	token = login.JSON200.AccessToken
	return client, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
