package service

import (
	"crypto/sha256"
	"hash/fnv"
	"net/http"
	"time"
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
)

// identity is everything that tells r's key apart from every other: whose it is, its method, route and key.
// None of them holds a space (a key is printable ASCII without one), so that no two identities join alike.
func (r IdempotentRequest) identity() string {
	return r.Scope + " " + r.Method + " " + r.Route + " " + r.Key
}

// ID is what r's stored answer is found by: the SHA-256 of its identity. migrations/00019 computes it the same
// way, in SQL, for the answers stored before it.
func (r IdempotentRequest) ID() []byte {
	sum := sha256.Sum256([]byte(r.identity()))
	return sum[:]
}

// LockID is the advisory lock that a running request with r's key holds: 64 bits of a hash of its identity. A
// collision only makes an unrelated request wait its turn (409), never answers it with another's answer, which
// is found by [IdempotentRequest.ID].
func (r IdempotentRequest) LockID() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(r.identity()))
	return int64(h.Sum64())
}
