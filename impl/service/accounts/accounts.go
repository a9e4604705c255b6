// Package accounts is sign-in and what guards it: passwords checked against their hashes, bearer tokens issued and
// checked, sessions rechecked, password resets, and admin grants.
package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/authcache"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// Service signs users in and keeps their sessions honest. It is safe for concurrent use.
type Service struct {
	core     *core.Core
	hasher   *password.Hasher
	tokens   *auth.Tokens
	sealer   *auth.Sealer
	resetTTL time.Duration
	// cache spares authenticated requests a query; the listener keeps it coherent across instances.
	cache *authcache.Cache
}

// Deps are what a Service needs.
type Deps struct {
	Hasher *password.Hasher
	Tokens *auth.Tokens
	// Sealer encrypts secrets that travel in job args.
	Sealer *auth.Sealer
	// PasswordResetTTL is how long a password-reset token stays usable.
	PasswordResetTTL time.Duration
	// Cache remembers what Authenticate read of a token's user.
	Cache *authcache.Cache
}

// New returns a Service over c.
func New(c *core.Core, d Deps) *Service {
	return &Service{core: c, hasher: d.Hasher, tokens: d.Tokens, sealer: d.Sealer,
		resetTTL: cmp.Or(d.PasswordResetTTL, 30*time.Minute), cache: d.Cache}
}

var errBadCredentials = &service.Error{Code: service.EUNAUTHORIZED, Message: "Invalid email or password."}

// Login exchanges an email and password for a token. It fails the same way, and takes the same time, whether the
// email is unknown or the password wrong, so that it does not tell which accounts exist.
func (s *Service) Login(ctx context.Context, email, password string) (service.Token, error) {
	if !possibleEmail(email) || utf8.RuneCountInString(password) > service.PasswordMaxLen {
		return service.Token{}, errBadCredentials
	}
	row, err := s.core.Queries.UserGetByEmail(ctx, s.core.DB, email)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.hasher.VerifyNothing(ctx, password); err != nil {
			return service.Token{}, fmt.Errorf("login: %w", err)
		}
		return service.Token{}, errBadCredentials
	}
	if err != nil {
		return service.Token{}, fmt.Errorf("login: %w", err)
	}
	ok, err := s.hasher.Verify(ctx, password, row.PasswordHash)
	if err != nil {
		return service.Token{}, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return service.Token{}, errBadCredentials
	}
	signed, err := s.tokens.Issue(row.ID.String())
	if err != nil {
		return service.Token{}, fmt.Errorf("login: %w", err)
	}
	return service.Token{AccessToken: signed, ExpiresIn: s.tokens.TTL(), User: core.ToUser(row), Role: service.Role(row.Role)}, nil
}

// possibleEmail reports whether some account could have email: one too long, not UTF-8 or holding a NUL was
// refused at sign-up (and PostgreSQL refuses to even compare text with a NUL), so it is answered as unknown
// without asking the database.
func possibleEmail(email string) bool {
	return len(email) <= service.EmailMaxLen && utf8.ValidString(email) && !strings.ContainsRune(email, 0)
}

// LoginAdmin is Login for the admin UI: a non-admin's right password fails exactly as a wrong one does, so that
// the admin sign-in does not tell which passwords are right.
func (s *Service) LoginAdmin(ctx context.Context, email, password string) (service.Token, error) {
	tok, err := s.Login(ctx, email, password)
	if err == nil && tok.Role != service.RoleAdmin {
		return service.Token{}, errBadCredentials
	}
	return tok, err
}

var errInvalidToken = &service.Error{Code: service.EUNAUTHORIZED, Message: "The token is missing, invalid or expired."}

// Authenticate checks a bearer token and returns its Actor. A token whose user has been deleted stops working, and
// so does one issued before its user's last password reset.
func (s *Service) Authenticate(ctx context.Context, token string) (service.Actor, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return service.Actor{}, errInvalidToken
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return service.Actor{}, errInvalidToken
	}
	u, gen, ok := s.cache.Get(id)
	if !ok {
		row, err := s.core.Queries.UserGetAuth(ctx, s.core.DB, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return service.Actor{}, errInvalidToken
		}
		if err != nil {
			return service.Actor{}, fmt.Errorf("authenticate: %w", err)
		}
		u = authcache.User{Role: service.Role(row.Role)}
		if row.PasswordChangedAt != nil {
			// Issue times are whole seconds: a token from the very second of the change still counts.
			u.TokensAfter = row.PasswordChangedAt.Truncate(time.Second)
		}
		s.cache.Put(id, u, gen)
	}
	if claims.IssuedAt.Before(u.TokensAfter) {
		return service.Actor{}, errInvalidToken
	}
	return service.Actor{UserID: id, Role: u.Role, TokenIssuedAt: claims.IssuedAt, TokenExpiresAt: claims.ExpiresAt}, nil
}

// The ways a session that outlives a request can stop standing, for [Service.Recheck].
var (
	errSessionExpired   = &service.Error{Code: service.EUNAUTHORIZED, Message: "The token has expired; sign in again."}
	errSessionUserGone  = &service.Error{Code: service.EUNAUTHORIZED, Message: "The account no longer exists."}
	errSessionReset     = &service.Error{Code: service.EUNAUTHORIZED, Message: "The password was reset; sign in again."}
	errSessionRoleMoved = &service.Error{Code: service.EFORBIDDEN, Message: "The account's role changed; connect again."}
)

// Recheck reports whether a, authenticated earlier for a session that outlives a request (a WebSocket), still
// stands: EUNAUTHORIZED when its token has expired, its user was deleted, or a password reset voided the tokens
// issued before it; EFORBIDDEN when its user's role is no longer a's (the session keeps the role it was opened
// with, so it must be reopened to get the new one). It reads the user afresh, never from the cache: it is called
// right after the listener heard that the user changed, when the cache has just forgotten them anyway.
func (s *Service) Recheck(ctx context.Context, a service.Actor) error {
	if !a.TokenExpiresAt.IsZero() && !time.Now().Before(a.TokenExpiresAt) {
		return errSessionExpired
	}
	row, err := s.core.Queries.UserGetAuth(ctx, s.core.DB, a.UserID)
	if errors.Is(err, pgx.ErrNoRows) {
		return errSessionUserGone
	}
	if err != nil {
		return fmt.Errorf("recheck session: %w", err)
	}
	if row.PasswordChangedAt != nil && a.TokenIssuedAt.Before(row.PasswordChangedAt.Truncate(time.Second)) {
		return errSessionReset
	}
	if service.Role(row.Role) != a.Role {
		return errSessionRoleMoved
	}
	return nil
}

// AuthenticateAdmin is Authenticate for admin-only routes: EFORBIDDEN for a valid token of a non-admin.
func (s *Service) AuthenticateAdmin(ctx context.Context, token string) (service.Actor, error) {
	a, err := s.Authenticate(ctx, token)
	if err != nil {
		return service.Actor{}, err
	}
	if !a.IsAdmin() {
		return service.Actor{}, core.ErrAdminOnly
	}
	return a, nil
}

// GrantAdmin makes the user with email an admin; ENOTFOUND when there is none.
func (s *Service) GrantAdmin(ctx context.Context, email string) error {
	n, err := s.core.Queries.UserSetRoleByEmail(ctx, s.core.DB, db.UserSetRoleByEmailParams{Role: string(service.RoleAdmin), Email: email})
	if err != nil {
		return fmt.Errorf("grant admin: %w", err)
	}
	if n == 0 {
		return core.NotFound("User")
	}
	return nil
}
