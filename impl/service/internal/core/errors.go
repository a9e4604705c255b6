package core

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/impl/service"
)

// NotFound says that what does not exist, or not for this caller.
func NotFound(what string) error {
	return &service.Error{Code: service.ENOTFOUND, Message: what + " not found"}
}

// Forbidden says that the caller may not do this.
func Forbidden(msg string) error { return &service.Error{Code: service.EFORBIDDEN, Message: msg} }

// Invalid is EINVALID with one message for one field.
func Invalid(field, msg string) error {
	fe := FieldErrors{}
	fe.Add(field, msg)
	return fe.Err()
}

// FieldErrors collects validation messages and turns them into one EINVALID error.
type FieldErrors map[string][]string

// Add records msg for field.
func (f FieldErrors) Add(field, msg string) { f[field] = append(f[field], msg) }

// Err is nil when nothing was recorded, and EINVALID with every message otherwise.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &service.Error{Code: service.EINVALID, Message: "The request is invalid.", Fields: f}
}

// RequireActor returns the caller, or EUNAUTHORIZED for an anonymous call.
func RequireActor(ctx context.Context) (service.Actor, error) {
	a, ok := service.ActorFromContext(ctx)
	if !ok {
		return service.Actor{}, &service.Error{Code: service.EUNAUTHORIZED, Message: "Sign in to do this."}
	}
	return a, nil
}

// ErrAdminOnly is what a signed-in caller who is not an admin gets from an admin-only action.
var ErrAdminOnly = &service.Error{Code: service.EFORBIDDEN, Message: "This needs an admin account."}

// RequireAdmin returns the caller if they are an admin: EUNAUTHORIZED for an anonymous call, EFORBIDDEN for
// anyone else.
func RequireAdmin(ctx context.Context) (service.Actor, error) {
	a, err := RequireActor(ctx)
	if err != nil {
		return service.Actor{}, err
	}
	if !a.IsAdmin() {
		return service.Actor{}, ErrAdminOnly
	}
	return a, nil
}

// Viewer returns the caller's user id, or nil for an anonymous call: what the queries' visibility rule takes.
func Viewer(ctx context.Context) *uuid.UUID {
	if a, ok := service.ActorFromContext(ctx); ok {
		return &a.UserID
	}
	return nil
}

// Unwritten says why a conditional write's statement found no row to change: what (a resource, as NotFound names
// it) is gone, ENOTFOUND; or it is there at a version m does not hold, EPRECONDITION with that version. current
// reads its version now (pgx.ErrNoRows when it is gone). nil means it is there and m holds: something else kept
// the row, which the caller names.
func Unwritten(what string, m service.Match, current func() (int64, error)) error {
	v, err := current()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return NotFound(what)
	case err != nil:
		return err
	case !m.Holds(v):
		return service.PreconditionFailed(strings.ToLower(what), v)
	}
	return nil
}
