package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/junction-dev/junction/impl/accept"
	"github.com/junction-dev/junction/impl/service"
)

// problemTypesExtension at the root of openapi.yaml: the RFC 9457 problem types, by name, each with its type URI,
// status and title. The server takes them from there, so that the document and the answers cannot disagree.
const problemTypesExtension = "x-problem-types"

// The media types of the two error representations.
const (
	problemJSON  = "application/problem+json"
	envelopeJSON = "application/json"
)

// The problem types the server answers, by their names in x-problem-types.
const (
	problemInvalidRequest         = "invalid-request"
	problemUnauthenticated        = "unauthenticated"
	problemForbidden              = "forbidden"
	problemNotFound               = "not-found"
	problemMethodNotAllowed       = "method-not-allowed"
	problemConflict               = "conflict"
	problemIdempotencyKeyInFlight = "idempotency-key-in-flight"
	problemPreconditionFailed     = "precondition-failed"
	problemPayloadTooLarge        = "payload-too-large"
	problemUnsupportedMediaType   = "unsupported-media-type"
	problemIdempotencyKeyReused   = "idempotency-key-reused"
	problemRateLimited            = "rate-limited"
	problemInternal               = "internal"
	problemUnavailable            = "unavailable"
)

// problemForStatus is the problem type of each status the server answers, unless the error names its own
// (problemOfError). 422 has none of its own: the one 422 there is names its type, and another would be about:blank
// until it is given one, rather than claim to be a reused key.
var problemForStatus = map[int]string{
	http.StatusBadRequest:            problemInvalidRequest,
	http.StatusUnauthorized:          problemUnauthenticated,
	http.StatusForbidden:             problemForbidden,
	http.StatusNotFound:              problemNotFound,
	http.StatusMethodNotAllowed:      problemMethodNotAllowed,
	http.StatusConflict:              problemConflict,
	http.StatusPreconditionFailed:    problemPreconditionFailed,
	http.StatusRequestEntityTooLarge: problemPayloadTooLarge,
	http.StatusUnsupportedMediaType:  problemUnsupportedMediaType,
	http.StatusTooManyRequests:       problemRateLimited,
	http.StatusInternalServerError:   problemInternal,
	http.StatusServiceUnavailable:    problemUnavailable,
}

// problemType is one entry of x-problem-types.
type problemType struct {
	uri    string
	title  string
	status int
}

// problemTypes are x-problem-types by name.
type problemTypes map[string]problemType

// blankProblem is RFC 9457's problem with no more meaning than its status, for a status without a type.
func blankProblem(status int) problemType {
	return problemType{uri: "about:blank", title: http.StatusText(status), status: status}
}

// of returns the problem type name for status, or about:blank when the document has no such type of that status.
func (p problemTypes) of(name string, status int) problemType {
	if t, ok := p[name]; ok && t.status == status {
		return t
	}
	return blankProblem(status)
}

// loadProblemTypes reads x-problem-types and checks that it has every problem type the server answers, with the
// status the server answers it with.
func loadProblemTypes(doc *openapi3.T) (problemTypes, error) {
	raw, ok := doc.Extensions[problemTypesExtension].(map[string]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("openapi.yaml: %s must map problem type names to their type, status and title", problemTypesExtension)
	}
	types := problemTypes{}
	uris := map[string]string{}
	for name, v := range raw {
		m, _ := v.(map[string]any)
		uri, _ := m["type"].(string)
		title, _ := m["title"].(string)
		status, _ := positiveNumber(m["status"])
		u, err := url.Parse(uri)
		if err != nil || !u.IsAbs() {
			return nil, fmt.Errorf("openapi.yaml: %s.%s: type must be an absolute URI, not %q", problemTypesExtension, name, uri)
		}
		if title == "" || status < 400 || status > 599 {
			return nil, fmt.Errorf("openapi.yaml: %s.%s needs a title and a 4xx or 5xx status", problemTypesExtension, name)
		}
		if other, dup := uris[uri]; dup {
			return nil, fmt.Errorf("openapi.yaml: %s.%s and %s have one type URI", problemTypesExtension, name, other)
		}
		uris[uri] = name
		types[name] = problemType{uri: uri, title: title, status: int(status)}
	}
	need := map[string]int{}
	for status, name := range problemForStatus {
		need[name] = status
	}
	for _, p := range problemOfError {
		need[p.problem] = statusFor[p.err.Code]
	}
	for name, status := range need {
		if t, ok := types[name]; !ok || t.status != status {
			return nil, fmt.Errorf("openapi.yaml: %s needs %s, with status %d", problemTypesExtension, name, status)
		}
	}
	return types, nil
}

// problemOfError names the problem types of the service errors that share their status with other errors: a 409
// is a conflict with stored data unless it is a key still running, which a client retries. The rest take their
// status's (problemForStatus).
var problemOfError = []struct {
	err     *service.Error
	problem string
}{
	{service.ErrIdempotencyInFlight, problemIdempotencyKeyInFlight},
	{service.ErrIdempotencyRunAgain, problemIdempotencyKeyInFlight}, // a retry succeeds, as after one in flight
	{service.ErrIdempotencyKeyReused, problemIdempotencyKeyReused},
}

// problemOf is the problem type name of err: its own, or "" for its status's.
func problemOf(err error) string {
	for _, p := range problemOfError {
		if errors.Is(err, p.err) {
			return p.problem
		}
	}
	return ""
}

// wantsProblem reports whether r's client prefers problem details to the envelope. A tie keeps the envelope, which
// every client received before problem details existed.
func wantsProblem(r *http.Request) bool {
	return accept.Prefers(r.Header.Values("Accept"), problemJSON, envelopeJSON)
}

// varyOn adds field to h's Vary unless it is there already (CORS adds Origin) or Vary is "*".
func varyOn(h http.Header, field string) {
	if !headerHas(h, "Vary", field) && !headerHas(h, "Vary", "*") {
		h.Add("Vary", field)
	}
}
