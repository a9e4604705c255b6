package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/etag"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// statusClientClosedRequest is what the access log and the metrics record for a request whose client left before
// the answer (nginx's convention); the client never sees it.
const statusClientClosedRequest = 499

// statusFor is the one table from service error codes to HTTP statuses. An error's problem type follows from its
// status (problemForStatus) unless problemOfError names its own.
var statusFor = map[service.Code]int{
	service.ENOTFOUND:      http.StatusNotFound,
	service.ECONFLICT:      http.StatusConflict,
	service.EINVALID:       http.StatusBadRequest,
	service.EUNAUTHORIZED:  http.StatusUnauthorized,
	service.EFORBIDDEN:     http.StatusForbidden,
	service.EUNAVAILABLE:   http.StatusServiceUnavailable,
	service.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	service.EPRECONDITION:  http.StatusPreconditionFailed,
}

// errorWriter renders every REST error, in the representation the client prefers: RFC 9457 problem details
// (application/problem+json) when its Accept weighs them above application/json, else the envelope, as before
// problem details existed. In development a 500 carries the internal error's text; elsewhere the text reaches
// only the log.
type errorWriter struct {
	dev       bool
	logger    *slog.Logger
	rejection *rejection
	// problems are openapi.yaml's x-problem-types; a type missing from them is answered as about:blank.
	problems problemTypes
}

// with returns the writer for an operation with its own rejection status (nil for none).
func (e errorWriter) with(r *rejection) errorWriter {
	e.rejection = r
	return e
}

// write sends status with the error of its status's problem type. fields may be nil.
func (e errorWriter) write(w http.ResponseWriter, r *http.Request, status int, message string, fields map[string][]string) {
	e.writeProblem(w, r, status, "", message, fields)
}

// writeProblem is write for an error with a problem type of its own (problem; "" for its status's): one of the
// statuses that mean more than one thing.
func (e errorWriter) writeProblem(w http.ResponseWriter, r *http.Request, status int, problem, message string, fields map[string][]string) {
	if problem == "" {
		problem = problemForStatus[status]
	}
	status, title, problem := e.rejection.apply(status, problem)
	if len(fields) > 0 {
		fields = capFields(fields)
	}
	// The same URL answers either representation: a cache must tell them apart.
	varyOn(w.Header(), "Accept")
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="junction"`)
	}
	var body any
	if wantsProblem(r) {
		body = problemDetails(r, e.problems.of(problem, status), status, message, fields)
		w.Header().Set("Content-Type", problemJSON)
	} else {
		body = envelope(r, status, title, message, fields)
		w.Header().Set("Content-Type", envelopeJSON)
	}
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		e.logger.DebugContext(r.Context(), "write error response", "err", err)
	}
}

// envelope is the error as the envelope (components/schemas/Error), which clients get unless they ask for problem
// details.
func envelope(r *http.Request, status int, title, message string, fields map[string][]string) api.Error {
	body := api.Error{
		Error:      title,
		StatusCode: status,
		Path:       r.URL.Path,
		Method:     r.Method,
		Timestamp:  time.Now().UTC(),
		RequestId:  RequestIDFromContext(r.Context()),
	}
	if message != "" {
		body.Message = &message
	}
	if len(fields) > 0 {
		body.Errors = &fields
	}
	return body
}

// problemDetails is the error as RFC 9457 problem details of type t (components/schemas/Problem): the envelope's
// message as detail, the request's path as instance, and the envelope's field errors and request id as extension
// members.
func problemDetails(r *http.Request, t problemType, status int, message string, fields map[string][]string) api.Problem {
	body := api.Problem{
		Type:      t.uri,
		Title:     t.title,
		Status:    status,
		Instance:  r.URL.EscapedPath(),
		RequestId: RequestIDFromContext(r.Context()),
	}
	if message != "" {
		body.Detail = &message
	}
	if len(fields) > 0 {
		body.Errors = &fields
	}
	return body
}

// service renders err, which a handler or the service returned. Expected failures keep their message; an outage
// is a 503 with Retry-After; anything else is a 500 whose details are logged.
func (e errorWriter) service(w http.ResponseWriter, r *http.Request, err error) {
	if responseStarted(w) {
		// The answer is under way: the client hung up while it was written, or encoding failed after the status
		// went out. No other status can follow it, and writing one would only add net/http's complaint.
		e.logger.InfoContext(r.Context(), "response failed after it started", "err", err, "method", r.Method,
			"path", r.URL.Path, "request_id", RequestIDFromContext(r.Context()))
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away: nobody will read an answer, and it is not the server's failure.
		e.logger.InfoContext(r.Context(), "client closed the request", "method", r.Method, "path", r.URL.Path,
			"request_id", RequestIDFromContext(r.Context()))
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	var exceeded *ratelimit.ExceededError
	if errors.As(err, &exceeded) {
		exceeded.SetHeaders(w.Header())
		w.Header().Set("Retry-After", strconv.Itoa(exceeded.RetryAfterSeconds()))
		e.write(w, r, http.StatusTooManyRequests, exceeded.Error(), nil)
		return
	}
	se, ok := service.Public(err)
	if !ok {
		e.internal(w, r, err)
		return
	}
	if se.Code == service.EUNAVAILABLE {
		e.logger.WarnContext(r.Context(), "unavailable", "err", err, "method", r.Method, "path", r.URL.Path,
			"request_id", RequestIDFromContext(r.Context()))
		w.Header().Set("Retry-After", "1")
	}
	if se.Code == service.EPRECONDITION {
		// What the client needs to read the resource again and decide (components/responses/PreconditionFailed).
		w.Header().Set("ETag", etag.Of(se.CurrentVersion))
	}
	status, ok := statusFor[se.Code]
	if !ok {
		e.internal(w, r, err)
		return
	}
	e.writeProblem(w, r, status, problemOf(err), se.Message, se.Fields)
}

// maxFieldErrors is the most fields an error names: a body of 100,000 unknown keys would otherwise answer
// 3 MB of "is not a known field".
const maxFieldErrors = 50

// capFields keeps the first maxFieldErrors fields, by name, and says how many were left out under the key "…"
// (no field has it).
func capFields(fields map[string][]string) map[string][]string {
	if len(fields) <= maxFieldErrors {
		return fields
	}
	names := slices.Sorted(maps.Keys(fields))
	kept := make(map[string][]string, maxFieldErrors+1)
	for _, n := range names[:maxFieldErrors] {
		kept[n] = fields[n]
	}
	kept["…"] = []string{fmt.Sprintf("%d more fields are wrong, left out here", len(names)-maxFieldErrors)}
	return kept
}

func (e errorWriter) internal(w http.ResponseWriter, r *http.Request, err error) {
	e.logger.ErrorContext(r.Context(), "internal error", "err", err, "method", r.Method, "path", r.URL.Path,
		"request_id", RequestIDFromContext(r.Context()))
	msg := "An unexpected error occurred."
	if e.dev {
		msg = err.Error()
	}
	e.write(w, r, http.StatusInternalServerError, msg, nil)
}
