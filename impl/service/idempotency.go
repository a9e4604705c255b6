package service

import (
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

// LockID is the advisory lock that a running request with r's key holds: 64 bits of a hash of everything that
// tells keys apart. A collision only makes an unrelated request wait its turn (409), never answers it with
// another's answer, which the stored row matches exactly.
func (r IdempotentRequest) LockID() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(r.Scope + " " + r.Method + " " + r.Route + " " + r.Key)) // none holds a space
	return int64(h.Sum64())
}
