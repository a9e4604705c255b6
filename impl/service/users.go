package service

import (
	"time"

	"github.com/google/uuid"
)

// The limits on user fields. openapi.yaml states the same limits so that REST rejects bad input before it gets
// to a service; the services check again because GraphQL and jobs call them too.
const (
	NameMaxLen     = 100
	EmailMaxLen    = 254
	PasswordMinLen = 8
	PasswordMaxLen = 128
	SearchMaxLen   = 100
	// MaxIncludedPosts bounds the posts embedded in a user (users' GetWithPosts).
	MaxIncludedPosts = 100
)

// User is a user as the services show it. It has no password field: hashes never leave the services.
type User struct {
	ID        uuid.UUID
	Name      string
	Email     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version is raised by the database with every change of the user (its ETag).
	Version int64
}

// UserSort is a whitelisted sort key for user lists.
type UserSort string

// The sort keys of user lists.
const (
	UserSortCreatedAt UserSort = "createdAt"
	UserSortName      UserSort = "name"
	UserSortEmail     UserSort = "email"
)

// ListUsersParams selects a page of users. Zero values take the defaults (page 1, 20 per page, newest first).
type ListUsersParams struct {
	Page   int
	Limit  int
	Sort   UserSort
	Order  SortOrder
	Search string
	// SkipTotal leaves Total at -1 and saves the count query, for callers that count only on demand.
	SkipTotal bool
}

// UserPage is one page of users, whether more pages follow, and the number of users that match the filters on
// all pages.
type UserPage struct {
	Users   []User
	HasMore bool
	Total   int64
}

// CreateUserInput is what a new user needs.
type CreateUserInput struct {
	Name     string
	Email    string
	Password string
}

// UpdateUserInput changes the fields that are not nil; at least one of Name, Email and Password must be set.
type UpdateUserInput struct {
	Name  *string
	Email *string
	// Password is a new password, under the same rules as at sign-up.
	Password *string
	// CurrentPassword is the account's password now. A bearer token can be stolen (a shared machine, a leaked
	// log): on its own it must not be enough to move the account to another address or lock its owner out, so
	// changing the email or the password needs this too.
	CurrentPassword *string
	// Precondition is the versions the user may have for the change to go ahead (If-Match and If-None-Match; the zero
	// value: any).
	Precondition Match
	// Replace is set when the input states all that a user may change but the password (PUT): then a write whose
	// If-Match fails while the user already holds exactly that answers with the user, not 412 (see
	// [Match.MayAnswerApplied]).
	Replace bool
}

// Token is a bearer token, how long it is valid, and whom it is for.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
	// User is who signed in, and Role their role.
	User User
	Role Role
}
