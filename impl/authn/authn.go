// Package authn is the one way a caller is signed in, whichever entrance they come through: REST's gate, GraphQL
// over HTTP, connection_init of GraphQL over WebSocket, and the admin UI. It reads the Authorization value, checks
// the token with the service, and classifies every failure with the service's codes, so that each transport maps
// them through its one error table: a bad token is EUNAUTHORIZED everywhere, and a database outage is EUNAVAILABLE
// everywhere (never "invalid token", which would make clients throw good sessions away).
package authn

import (
	"context"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/service"
)

// Tokens checks bearer tokens; the accounts service (impl/service/accounts) is one.
type Tokens interface {
	Authenticate(ctx context.Context, token string) (service.Actor, error)
	AuthenticateAdmin(ctx context.Context, token string) (service.Actor, error)
}

// Authenticator signs callers in from their Authorization value.
type Authenticator struct {
	tokens Tokens
}

// New returns an Authenticator over tokens.
func New(tokens Tokens) *Authenticator { return &Authenticator{tokens: tokens} }

// Errors a transport may show as they are.
var (
	// ErrMissing is returned for an empty Authorization value where a token is required.
	ErrMissing = &service.Error{Code: service.EUNAUTHORIZED, Message: "Sign in: send Authorization: Bearer <token>."}
	// ErrMalformed is returned for an Authorization value that is not "Bearer <token>".
	ErrMalformed = &service.Error{Code: service.EUNAUTHORIZED, Message: "The Authorization header must be: Bearer <token>."}
)

// Need says what a caller must show.
type Need int

// What an entrance needs.
const (
	// Optional: anonymous callers pass; a token that is sent must be valid.
	Optional Need = iota
	// User: a valid token.
	User
	// Admin: a valid token of an admin (EFORBIDDEN for anyone else's).
	Admin
)

// Authorization signs in the caller whose Authorization value is header. It returns the actor and true, or false
// for an anonymous caller where need allows one; otherwise an error classified by the service's codes.
func (a *Authenticator) Authorization(ctx context.Context, header string, need Need) (service.Actor, bool, error) {
	if header == "" {
		if need == Optional {
			return service.Actor{}, false, nil
		}
		return service.Actor{}, false, ErrMissing
	}
	token, ok := auth.BearerToken(header)
	if !ok {
		return service.Actor{}, false, ErrMalformed
	}
	check := a.tokens.Authenticate
	if need == Admin {
		check = a.tokens.AuthenticateAdmin
	}
	actor, err := check(ctx, token)
	if err != nil {
		return service.Actor{}, false, err
	}
	return actor, true, nil
}
