package service

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Actor is the signed-in user a call is made for. Transports authenticate the caller and put the Actor in the
// context with [NewContextWithActor]; the service reads it from there to decide what the caller may see and do.
type Actor struct {
	UserID uuid.UUID
	Role   string
	// TokenIssuedAt and TokenExpiresAt are the bearer token's issue and expiry times. A request ends long before
	// either matters; a session that outlives one (a WebSocket) must end at TokenExpiresAt, and when a password
	// reset voids the tokens issued before it ([Service.Recheck]).
	TokenIssuedAt  time.Time
	TokenExpiresAt time.Time
}

// The roles a user can have.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// IsAdmin reports whether the actor may use admin-only routes.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

type actorKey struct{}

// NewContextWithActor returns ctx carrying a.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the Actor in ctx, and false for an anonymous call.
func ActorFromContext(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// requireActor returns the caller, or EUNAUTHORIZED for an anonymous call.
func requireActor(ctx context.Context) (Actor, error) {
	a, ok := ActorFromContext(ctx)
	if !ok {
		return Actor{}, &Error{Code: EUNAUTHORIZED, Message: "Sign in to do this."}
	}
	return a, nil
}

// viewerOf returns the caller's user id, or nil for an anonymous call: what the queries' visibility rule takes.
func viewerOf(ctx context.Context) *uuid.UUID {
	if a, ok := ActorFromContext(ctx); ok {
		return &a.UserID
	}
	return nil
}

func forbidden(msg string) error { return &Error{Code: EFORBIDDEN, Message: msg} }
