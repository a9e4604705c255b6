// Package idempotent is the HTTP half of safe retries (the Idempotency-Key header), for every entrance that takes
// a key: REST's gate and GraphQL's mutations. It reads the key, says whose it is and what request it came with,
// keeps the answer until the idempotency service has stored it with the request's writes, and replays a stored
// one. What a key means (the lock, the store, the replay) is impl/service/idempotency's.
package idempotent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/service"
)

// The headers of draft-ietf-httpapi-idempotency-key-header: the request's key, and the mark of an answer
// replayed from the store.
const (
	KeyHeader      = "Idempotency-Key"
	ReplayedHeader = "Idempotent-Replayed"
)

// Store runs keyed requests (impl/service/idempotency).
type Store interface {
	Begin(ctx context.Context, r service.IdempotentRequest) context.Context
	Found(ctx context.Context) (*service.StoredAnswer, error)
	Finish(ctx context.Context, answer *service.StoredAnswer) (*service.StoredAnswer, error)
}

// ParseKey reads the header's key: Stripe's bare form or the draft's quoted string, at most
// service.IdempotencyKeyMaxLen printable ASCII characters.
func ParseKey(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > service.IdempotencyKeyMaxLen {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e || v[i] == '"' {
			return "", false
		}
	}
	return v, true
}

// Request is the keyed request r of route (a route pattern), with key and body (read already).
func Request(r *http.Request, route, key string, body []byte) service.IdempotentRequest {
	return service.IdempotentRequest{Scope: scope(r), Key: key, Method: r.Method, Route: route, Fingerprint: fingerprint(r, body)}
}

// scope is whose key it is: the signed-in user's, else the client address's.
func scope(r *http.Request) string {
	if a, ok := service.ActorFromContext(r.Context()); ok {
		return "user:" + a.UserID.String()
	}
	return "ip:" + clientip.Key(clientip.FromContext(r.Context()))
}

// fingerprint identifies the request a key was sent with: its method, path, query, preconditions and body. The
// preconditions (If-Match, If-None-Match) decide what a write does as much as its body: a retry must send them as
// the first request did. A request without them hashes as before they counted (an answer stored then still
// matches its retry); with them, a leading byte that no method starts with keeps the two forms apart.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	ifMatch, ifNoneMatch := r.Header.Values("If-Match"), r.Header.Values("If-None-Match")
	if len(ifMatch)+len(ifNoneMatch) > 0 {
		h.Write([]byte{1})
		for _, part := range []string{strings.Join(ifMatch, ", "), strings.Join(ifNoneMatch, ", ")} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
	}
	for _, part := range []string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil)
}

// Serve runs keyed request req (r, whose body, read already, is body) through next once per key: it has the
// answer stored with the request's writes, or replays the one its key holds. A request whose key held an expired
// answer (not yet pruned) runs again, once, after that answer is deleted: its first run's writes were rolled
// back. refuse answers a refusal in the entrance's own shape: [service.ErrIdempotencyInFlight] (with Retry-After
// set), [service.ErrIdempotencyKeyReused], or a failure to commit.
func Serve(w http.ResponseWriter, r *http.Request, store Store, req service.IdempotentRequest, body []byte, next http.Handler, refuse func(http.ResponseWriter, *http.Request, error)) {
	runs := context.WithValue(r.Context(), onceKey{}, &once{})
	for run := 1; ; run++ {
		ctx := store.Begin(runs, req)
		rec := &Recorder{header: http.Header{}}
		rr := r.WithContext(ctx)
		if run > 1 {
			rr.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(rec, rr)
		if _, refusal := store.Found(ctx); refusal != nil {
			// Its first write found the key held: whatever the handler made of that is not the answer.
			_, _ = store.Finish(ctx, nil)
			refuseKeyed(w, r, refusal, refuse)
			return
		}
		var answer *service.StoredAnswer
		if rec.status >= 200 && rec.status < 300 {
			answer = &service.StoredAnswer{Status: rec.status, Header: storedHeaders(rec.header), Body: rec.body.Bytes()}
		}
		earlier, err := store.Finish(ctx, answer)
		switch {
		case errors.Is(err, service.ErrIdempotencyRunAgain) && run == 1:
			continue
		case err != nil:
			// Nothing was committed (or the key answered another request): the answer the handler made would
			// tell of a write that did not happen.
			refuseKeyed(w, r, err, refuse)
		case earlier != nil:
			replay(w, earlier) // the key's first answer is the answer
		default:
			rec.copyTo(w)
		}
		return
	}
}

type onceKey struct{}

// once is what the runs of one keyed request did once: the result of each [Once] key.
type once struct {
	mu   sync.Mutex
	done map[string]error
}

// Once calls f once per keyed request for what key names: a run of the request after the first (its key held an
// expired answer) gets the error that the first run's f returned, without calling f. What counts the client's
// request rather than its work, a rate limit, must not count it twice, nor let the second run do what the first
// was refused. Outside a keyed request it calls f. key is computed only inside one.
func Once(ctx context.Context, key func() string, f func() error) error {
	o, ok := ctx.Value(onceKey{}).(*once)
	if !ok {
		return f()
	}
	k := key()
	o.mu.Lock()
	defer o.mu.Unlock()
	if err, done := o.done[k]; done {
		return err
	}
	err := f()
	if o.done == nil {
		o.done = map[string]error{}
	}
	o.done[k] = err
	return err
}

// refuseKeyed answers refusal with refuse, and with Retry-After when the request may be retried as it is.
func refuseKeyed(w http.ResponseWriter, r *http.Request, refusal error, refuse func(http.ResponseWriter, *http.Request, error)) {
	if errors.Is(refusal, service.ErrIdempotencyInFlight) || errors.Is(refusal, service.ErrIdempotencyRunAgain) {
		w.Header().Set("Retry-After", strconv.Itoa(int(service.IdempotencyRetryAfter.Seconds())))
	}
	refuse(w, r, refusal)
}

// storedHeaders are the headers of an answer that belong to it, and so are replayed: not those of the request
// that made it (its id, rate-limit counters, date), which the replay's own request sets.
func storedHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range []string{"Content-Type", "Location", "ETag", "Last-Modified", "Link", "Cache-Control"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

func replay(w http.ResponseWriter, a *service.StoredAnswer) {
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.Header().Set(ReplayedHeader, "true")
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

// Recorder keeps a keyed request's answer until it is stored with the request's writes: nothing reaches the
// client before the commit, which may still fail.
type Recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *Recorder) Header() http.Header { return a.header }

func (a *Recorder) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

func (a *Recorder) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

// Started reports whether the handler has begun its answer (for error writers that must not write a second).
func (a *Recorder) Started() bool { return a.status != 0 }

func (a *Recorder) copyTo(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body.Bytes())
}
