package httpapi

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/service"
)

// idempotencyKeyHeader is draft-ietf-httpapi-idempotency-key-header's request header; idempotentReplayedHeader
// marks an answer replayed from the store.
const (
	idempotencyKeyHeader     = "Idempotency-Key"
	idempotentReplayedHeader = "Idempotent-Replayed"
)

// takesIdempotencyKey reports whether op declares the Idempotency-Key header: the operations the gate runs
// through the idempotency service when a request carries one. The contract says which, not this code.
func takesIdempotencyKey(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && http.CanonicalHeaderKey(p.Value.Name) == idempotencyKeyHeader {
			return true
		}
	}
	return false
}

// idempotencyKey reads the header's key: Stripe's bare form or the draft's quoted string, at most
// service.IdempotencyKeyMaxLen printable ASCII characters (the validator has checked the characters).
func idempotencyKey(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > service.IdempotencyKeyMaxLen || strings.ContainsAny(v, "\" ") {
		return "", false
	}
	return v, true
}

// idempotent runs a keyed request r of route through next once per key: it replays the answer its key holds,
// or runs it and has its answer stored with its writes. body is the request's body, read by the gate.
func (g *gate) idempotent(w http.ResponseWriter, r *http.Request, next http.Handler, route string, body []byte, errs errorWriter) {
	key, ok := idempotencyKey(r.Header.Get(idempotencyKeyHeader))
	if !ok {
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{
			idempotencyKeyHeader: {"must be 1 to 255 printable characters, bare or in double quotes"},
		})
		return
	}
	req := service.IdempotentRequest{
		Scope: scope(r), Key: key, Method: r.Method, Route: route, Fingerprint: fingerprint(r, body),
	}
	ctx := g.idem.Begin(r.Context(), req)
	rec := &answerRecorder{header: http.Header{}}
	next.ServeHTTP(rec, r.WithContext(ctx))
	found, refusal := g.idem.Found(ctx)
	switch {
	case found != nil || refusal != nil:
		// Its first write met the key's lock or answer: whatever the handler made of that is not the answer.
		_, _ = g.idem.Finish(ctx, nil)
		if found != nil {
			replay(w, found)
			return
		}
		if errors.Is(refusal, service.ErrIdempotencyInFlight) {
			w.Header().Set("Retry-After", strconv.Itoa(int(service.IdempotencyRetryAfter.Seconds())))
		}
		errs.service(w, r, refusal)
		return
	}
	var answer *service.StoredAnswer
	if rec.status >= 200 && rec.status < 300 {
		answer = &service.StoredAnswer{Status: rec.status, Header: storedHeaders(rec.header), Body: rec.body.Bytes()}
	}
	earlier, err := g.idem.Finish(ctx, answer)
	switch {
	case err != nil:
		// Nothing was committed (or the key answered another request): the answer the handler made would
		// tell of a write that did not happen.
		errs.service(w, r, err)
	case earlier != nil:
		replay(w, earlier) // it wrote nothing this time: the key's first answer is the answer
	default:
		rec.copyTo(w)
	}
}

// scope is whose key it is: the signed-in user's, else the client address's.
func scope(r *http.Request) string {
	if a, ok := service.ActorFromContext(r.Context()); ok {
		return "user:" + a.UserID.String()
	}
	return "ip:" + clientip.Key(clientip.FromContext(r.Context()))
}

// fingerprint identifies the request a key was sent with: its method, path, query and body.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil)
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
	w.Header().Set(idempotentReplayedHeader, "true")
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

// answerRecorder keeps a keyed request's answer until it is stored with the request's writes: nothing reaches
// the client before the commit, which may still fail.
type answerRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answerRecorder) Header() http.Header { return a.header }

func (a *answerRecorder) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

func (a *answerRecorder) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

func (a *answerRecorder) copyTo(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body.Bytes())
}
