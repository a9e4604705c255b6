package service

import (
	"crypto/sha256"
	"hash/fnv"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// IdempotentRequest is a request made with an Idempotency-Key: the key, whose it is (Scope: a user, or an
// address for an anonymous call), the method and route it was sent to, and a fingerprint of the request itself
// (method, path, query and body), which a replay must match.
type IdempotentRequest struct {
	Scope       string
	Key         string
	Method      string
	Route       string
	Fingerprint []byte
}

// StoredAnswer is what an idempotent request answered: replayed byte for byte to its retries.
type StoredAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// IdempotencyKeyMaxLen is the longest key, in characters (printable ASCII), quotes excluded.
const IdempotencyKeyMaxLen = 255

// IdempotencyRetryAfter is what a request told that another with its key is still running waits before retrying.
const IdempotencyRetryAfter = time.Second

// The refusals of an idempotent request.
var (
	// ErrIdempotencyInFlight: a request with the same key is running; retry after IdempotencyRetryAfter.
	ErrIdempotencyInFlight = &Error{Code: ECONFLICT, Message: "A request with this Idempotency-Key is still running; retry shortly."}
	// ErrIdempotencyKeyReused: the key answered another request.
	ErrIdempotencyKeyReused = &Error{Code: EUNPROCESSABLE, Message: "This Idempotency-Key was used for another request."}
	// ErrIdempotencyRunAgain: the key held an expired answer, which the request's store met and deleted; its
	// writes were rolled back, and it must run again, once. Answered as it is, it is a 409 to retry.
	ErrIdempotencyRunAgain = &Error{Code: ECONFLICT, Message: "This Idempotency-Key's earlier answer had expired; retry the request."}
)

// identity is everything that tells r's key apart from every other: whose it is, its method, route and key.
// None of them holds a space (a key is printable ASCII without one), so that no two identities join alike.
func (r IdempotentRequest) identity() string {
	return r.Scope + " " + r.Method + " " + r.Route + " " + r.Key
}

// ID is what r's stored answer is found by: the SHA-256 of its identity (migrations/00019 computes it the same
// way, in SQL, for the answers stored before it), after the 6-byte time of its key when the key is a UUIDv7 (as
// both SDKs make them). A digest alone lands each new answer on a random page of the index, and the first write
// to a page after a checkpoint logs the whole page (8 KB): most keyed writes did, once the index outgrew what a
// checkpoint's interval touches. Filed under their time, such keys add to the index's end, one page after the
// other. The time is the key's own, so a retry finds the same ID whenever it comes.
func (r IdempotentRequest) ID() []byte {
	sum := sha256.Sum256([]byte(r.identity()))
	if t, ok := uuidV7Time(r.Key); ok {
		return append(t[:], sum[:]...)
	}
	return sum[:]
}

// uuidV7Time is the 48-bit Unix time in milliseconds, big-endian, of key when it is a UUIDv7 in its text form
// (RFC 9562: version 7, variant 10).
func uuidV7Time(key string) (t [6]byte, ok bool) {
	if len(key) != 36 { // the text form only: uuid.Parse takes others too
		return t, false
	}
	u, err := uuid.Parse(key)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		return t, false
	}
	return [6]byte(u[:6]), true
}

// LockID is the advisory lock that a running request with r's key holds: 64 bits of a hash of its identity. A
// collision only makes an unrelated request wait its turn (409), never answers it with another's answer, which
// is found by [IdempotentRequest.ID].
func (r IdempotentRequest) LockID() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(r.identity()))
	return int64(h.Sum64())
}
