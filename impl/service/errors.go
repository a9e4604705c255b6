package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/junction-dev/junction/impl/retry"
)

// Code classifies an [Error] so that each transport can map it to a status once, in one table.
type Code string

// The error codes the service returns. Anything else is internal.
const (
	ENOTFOUND     Code = "not_found"
	ECONFLICT     Code = "conflict"
	EINVALID      Code = "invalid"
	EUNAUTHORIZED Code = "unauthorized"
	EFORBIDDEN    Code = "forbidden"
	EUNAVAILABLE  Code = "unavailable"
	// EUNPROCESSABLE is a request that is well formed but cannot be carried out as sent: an Idempotency-Key
	// reused for another request.
	EUNPROCESSABLE Code = "unprocessable"
	// EPRECONDITION is a conditional write whose precondition ([Match]) does not hold: the resource has changed.
	EPRECONDITION Code = "precondition_failed"
	EINTERNAL     Code = "internal"
)

// Error is an expected failure whose Message is safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Fields holds validation messages by field name (the JSON names of the API), for EINVALID.
	Fields map[string][]string
	// CurrentVersion is the resource's version now, for EPRECONDITION.
	CurrentVersion int64
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// ErrorCode returns the [Code] of err: its own when err is (or wraps) an [*Error]; EUNAVAILABLE when the database
// could not answer in time (an outage, a statement timeout, the request's deadline), which the caller may retry;
// EINTERNAL otherwise. Every transport maps outages the same way because they all ask here.
func ErrorCode(err error) Code {
	if e, ok := Public(err); ok {
		return e.Code
	}
	return EINTERNAL
}

// Unavailable is the error a caller sees when the database could not answer in time, or a component that would
// answer is stopping: retry shortly.
func Unavailable() *Error {
	return &Error{Code: EUNAVAILABLE, Message: "The service is temporarily unavailable; retry shortly."}
}

// Public returns err as an [*Error] whose message is safe to show, and true; or nil and false for an internal error,
// whose details belong in the log only.
func Public(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	if unavailable(err) {
		return Unavailable(), true
	}
	return nil, false
}

func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" { // query_canceled: the statement_timeout
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || retry.Retryable(err)
}
