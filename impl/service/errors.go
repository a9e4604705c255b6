package service

import (
	"errors"
	"fmt"
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
	EINTERNAL     Code = "internal"
)

// Error is an expected failure whose Message is safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Fields holds validation messages by field name (the JSON names of the API), for EINVALID.
	Fields map[string][]string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// ErrorCode returns the [Code] of err, or EINTERNAL when err is not (or does not wrap) an [*Error].
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

func notFound(what string) error { return &Error{Code: ENOTFOUND, Message: what + " not found"} }

// fieldErrors collects validation messages and turns them into one EINVALID error.
type fieldErrors map[string][]string

func (f fieldErrors) add(field, msg string) { f[field] = append(f[field], msg) }

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The request is invalid.", Fields: f}
}
