package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Token is a bearer token, how long it is valid, and whom it is for.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
	// User is who signed in, and Role their role.
	User User
	Role string
}

var errBadCredentials = &Error{Code: EUNAUTHORIZED, Message: "Invalid email or password."}

// Login exchanges an email and password for a token. It fails the same way, and takes the same time, whether the
// email is unknown or the password wrong, so that it does not tell which accounts exist.
func (s *Service) Login(ctx context.Context, email, password string) (Token, error) {
	if !possibleEmail(email) || utf8.RuneCountInString(password) > PasswordMaxLen {
		return Token{}, errBadCredentials
	}
	row, err := s.queries.UserGetByEmail(ctx, s.pool, email)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.hasher.VerifyNothing(ctx, password); err != nil {
			return Token{}, fmt.Errorf("login: %w", err)
		}
		return Token{}, errBadCredentials
	}
	if err != nil {
		return Token{}, fmt.Errorf("login: %w", err)
	}
	ok, err := s.hasher.Verify(ctx, password, row.PasswordHash)
	if err != nil {
		return Token{}, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return Token{}, errBadCredentials
	}
	signed, err := s.tokens.Issue(row.ID.String())
	if err != nil {
		return Token{}, fmt.Errorf("login: %w", err)
	}
	return Token{AccessToken: signed, ExpiresIn: s.tokens.TTL(), User: toUser(row), Role: row.Role}, nil
}

// possibleEmail reports whether some account could have email: one too long, not UTF-8 or holding a NUL was
// refused at sign-up (and PostgreSQL refuses to even compare text with a NUL), so it is answered as unknown
// without asking the database.
func possibleEmail(email string) bool {
	return len(email) <= EmailMaxLen && utf8.ValidString(email) && !strings.ContainsRune(email, 0)
}

// LoginAdmin is Login for the admin UI: a non-admin's right password fails exactly as a wrong one does, so that
// the admin sign-in does not tell which passwords are right.
func (s *Service) LoginAdmin(ctx context.Context, email, password string) (Token, error) {
	tok, err := s.Login(ctx, email, password)
	if err == nil && tok.Role != RoleAdmin {
		return Token{}, errBadCredentials
	}
	return tok, err
}

var errInvalidToken = &Error{Code: EUNAUTHORIZED, Message: "The token is missing, invalid or expired."}

// Authenticate checks a bearer token and returns its Actor. A token whose user has been deleted stops working, and
// so does one issued before its user's last password reset.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return Actor{}, errInvalidToken
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return Actor{}, errInvalidToken
	}
	u, gen, ok := s.authCache.get(id)
	if !ok {
		row, err := s.queries.UserGetAuth(ctx, s.pool, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return Actor{}, errInvalidToken
		}
		if err != nil {
			return Actor{}, fmt.Errorf("authenticate: %w", err)
		}
		u = authUser{role: row.Role}
		if row.PasswordChangedAt != nil {
			// Issue times are whole seconds: a token from the very second of the change still counts.
			u.tokensAfter = row.PasswordChangedAt.Truncate(time.Second)
		}
		s.authCache.put(id, u, gen)
	}
	if claims.IssuedAt.Before(u.tokensAfter) {
		return Actor{}, errInvalidToken
	}
	return Actor{UserID: id, Role: u.role, TokenIssuedAt: claims.IssuedAt, TokenExpiresAt: claims.ExpiresAt}, nil
}

// The ways a session that outlives a request can stop standing, for [Service.Recheck].
var (
	errSessionExpired   = &Error{Code: EUNAUTHORIZED, Message: "The token has expired; sign in again."}
	errSessionUserGone  = &Error{Code: EUNAUTHORIZED, Message: "The account no longer exists."}
	errSessionReset     = &Error{Code: EUNAUTHORIZED, Message: "The password was reset; sign in again."}
	errSessionRoleMoved = &Error{Code: EFORBIDDEN, Message: "The account's role changed; connect again."}
)

// Recheck reports whether a, authenticated earlier for a session that outlives a request (a WebSocket), still
// stands: EUNAUTHORIZED when its token has expired, its user was deleted, or a password reset voided the tokens
// issued before it; EFORBIDDEN when its user's role is no longer a's (the session keeps the role it was opened
// with, so it must be reopened to get the new one). It reads the user afresh, never from the cache: it is called
// right after the listener heard that the user changed, when the cache has just forgotten them anyway.
func (s *Service) Recheck(ctx context.Context, a Actor) error {
	if !a.TokenExpiresAt.IsZero() && !time.Now().Before(a.TokenExpiresAt) {
		return errSessionExpired
	}
	row, err := s.queries.UserGetAuth(ctx, s.pool, a.UserID)
	if errors.Is(err, pgx.ErrNoRows) {
		return errSessionUserGone
	}
	if err != nil {
		return fmt.Errorf("recheck session: %w", err)
	}
	if row.PasswordChangedAt != nil && a.TokenIssuedAt.Before(row.PasswordChangedAt.Truncate(time.Second)) {
		return errSessionReset
	}
	if row.Role != a.Role {
		return errSessionRoleMoved
	}
	return nil
}

// AuthenticateAdmin is Authenticate for admin-only routes: EFORBIDDEN for a valid token of a non-admin.
func (s *Service) AuthenticateAdmin(ctx context.Context, token string) (Actor, error) {
	a, err := s.Authenticate(ctx, token)
	if err != nil {
		return Actor{}, err
	}
	if !a.IsAdmin() {
		return Actor{}, forbidden("This needs an admin account.")
	}
	return a, nil
}
