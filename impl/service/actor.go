package service

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Role is what a user may do beyond their own things.
type Role string

// The roles a user can have.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Actor is the signed-in user a call is made for. Transports authenticate the caller and put the Actor in the
// context with [NewContextWithActor]; the services read it from there to decide what the caller may see and do.
type Actor struct {
	UserID uuid.UUID
	Role   Role
	// TokenIssuedAt and TokenExpiresAt are the bearer token's issue and expiry times. A request ends long before
	// either matters; a session that outlives one (a WebSocket) must end at TokenExpiresAt, and when a password
	// reset voids the tokens issued before it (accounts' Recheck).
	TokenIssuedAt  time.Time
	TokenExpiresAt time.Time
}

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
