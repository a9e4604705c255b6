package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/junction-dev/junction/gen/api"
)

// maxBody bounds what the receiver reads of a delivery; Junction's bodies are the REST resources, far smaller.
const maxBody = 1 << 20

// delivery is what the receiver made of one POST: the verified, decoded event, or why it refused it.
type delivery struct {
	id      string      // webhook-id
	header  http.Header // as sent, signature included
	body    []byte      // as sent
	payload api.WebhookPayload
	err     error
}

// receiver is the part of a webhook consumer that any application needs: it verifies the signature over the raw
// body before anything else, answers fast (Junction waits 15 s at most), and acts on each webhook-id once.
type receiver struct {
	// verifier is set once the endpoint is registered, which is when its secret is known. Until then every
	// POST is answered 503, which Junction retries.
	verifier atomic.Pointer[standardwebhooks.Webhook]

	mu   sync.Mutex
	seen map[string]bool // the webhook-ids taken: a retry of one of them is acknowledged and not acted on again

	// deliveries hears of every first delivery and every refusal; buffered so that a handler never waits for
	// the reader.
	deliveries chan delivery
}

func newReceiver() *receiver {
	return &receiver{seen: map[string]bool{}, deliveries: make(chan delivery, 64)}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	wh := rc.verifier.Load()
	if wh == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	// Verify the bytes as they came: a body decoded and encoded again would not match its signature.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get(standardwebhooks.HeaderWebhookID)
	if err := wh.Verify(body, r.Header); err != nil {
		http.Error(w, "invalid signature", http.StatusBadRequest)
		rc.deliveries <- delivery{id: id, err: fmt.Errorf("verify: %w", err)}
		return
	}
	var p api.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "not a WebhookPayload", http.StatusBadRequest)
		rc.deliveries <- delivery{id: id, err: fmt.Errorf("decode the payload: %w", err)}
		return
	}
	if rc.firstTime(id) {
		rc.deliveries <- delivery{id: id, header: r.Header.Clone(), body: body, payload: p}
	}
	// Any 2xx is success; a 204 says so without a body for Junction's log to keep.
	w.WriteHeader(http.StatusNoContent)
}

// firstTime records id and reports whether it is new. A real receiver keeps this in its database, in the
// transaction that acts on the event, for 30 days: as long as Junction may re-send a delivery.
func (rc *receiver) firstTime(id string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen[id] {
		return false
	}
	rc.seen[id] = true
	return true
}

// subject is what an event is about: its type and the id of its resource.
type subject struct {
	eventType string
	id        string
}

// about switches on the payload's discriminator to reach the typed event, and says what it is about.
func about(p api.WebhookPayload) (subject, string, error) {
	t, err := p.Discriminator()
	if err != nil {
		return subject{}, "", fmt.Errorf("read the event type: %w", err)
	}
	switch api.WebhookEventType(t) {
	case api.WebhookEventTypeWebhookTest:
		e, err := p.AsWebhookTestEvent()
		if err != nil {
			return subject{}, "", fmt.Errorf("decode %s: %w", t, err)
		}
		return subject{t, e.Data.EndpointId.String()}, fmt.Sprintf("%q", e.Data.Message), nil
	case api.WebhookEventTypePostPublished:
		e, err := p.AsPostPublishedEvent()
		if err != nil {
			return subject{}, "", fmt.Errorf("decode %s: %w", t, err)
		}
		return subject{t, e.Data.Id.String()}, fmt.Sprintf("post %q published at %s", e.Data.Title, e.Timestamp.Format(time.RFC3339)), nil
	case api.WebhookEventTypePostUpdated:
		e, err := p.AsPostUpdatedEvent()
		if err != nil {
			return subject{}, "", fmt.Errorf("decode %s: %w", t, err)
		}
		return subject{t, e.Data.Id.String()}, fmt.Sprintf("post now titled %q", e.Data.Title), nil
	case api.WebhookEventTypeCommentCreated:
		e, err := p.AsCommentCreatedEvent()
		if err != nil {
			return subject{}, "", fmt.Errorf("decode %s: %w", t, err)
		}
		return subject{t, e.Data.Id.String()}, fmt.Sprintf("comment %q on post %s", e.Data.Content, e.Data.PostId), nil
	}
	// A receiver should accept and ignore a type it does not know: the list of types may grow.
	return subject{eventType: t}, "a type this receiver does not handle", nil
}
