package service

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
)

// The limits on user fields. openapi.yaml states the same limits so that REST rejects bad input before it gets
// here; the service checks again because GraphQL and jobs call it too.
const (
	NameMaxLen     = 100
	EmailMaxLen    = 254
	PasswordMinLen = 8
	PasswordMaxLen = 128
	SearchMaxLen   = 100
	MaxPageSize    = 100
	MaxPage        = 1_000_000
)

// emailUniqueIndex is the unique index on lower(email) (migrations/00001_users.sql).
const emailUniqueIndex = "users_email_lower_key"

// User is a user as the service shows it. It has no password field: hashes never leave this package.
type User struct {
	ID        uuid.UUID
	Name      string
	Email     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserSort is a whitelisted sort key for [Service.ListUsers].
type UserSort string

// The sort keys of [Service.ListUsers].
const (
	UserSortCreatedAt UserSort = "createdAt"
	UserSortName      UserSort = "name"
	UserSortEmail     UserSort = "email"
)

// SortOrder is ascending or descending.
type SortOrder string

// The sort orders.
const (
	Asc  SortOrder = "asc"
	Desc SortOrder = "desc"
)

// ListUsersParams selects a page of users. Zero values take the defaults (page 1, 20 per page, newest first).
type ListUsersParams struct {
	Page   int
	Limit  int
	Sort   UserSort
	Order  SortOrder
	Search string
}

// UserPage is one page of users and the number of users that match the filters on all pages.
type UserPage struct {
	Users []User
	Total int64
}

// CreateUserInput is what a new user needs.
type CreateUserInput struct {
	Name     string
	Email    string
	Password string
}

// UpdateUserInput changes the fields that are not nil; at least one must be set.
type UpdateUserInput struct {
	Name  *string
	Email *string
}

// GetUser returns the user with id, or ENOTFOUND.
func (s *Service) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	row, err := s.queries.UserGetByID(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, notFound("User")
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return toUser(row), nil
}

// ListUsers returns a page of users, filtered by a case-insensitive substring of name or email.
func (s *Service) ListUsers(ctx context.Context, p ListUsersParams) (UserPage, error) {
	p, err := p.normalize()
	if err != nil {
		return UserPage{}, err
	}
	args := db.UserListByCreatedAtAscParams{
		Pattern:   containsPattern(p.Search),
		RowLimit:  int32(p.Limit),
		RowOffset: int32((p.Page - 1) * p.Limit),
	}
	var rows []db.User
	q, conn := s.queries, s.pool
	switch {
	case p.Sort == UserSortCreatedAt && p.Order == Asc:
		rows, err = q.UserListByCreatedAtAsc(ctx, conn, args)
	case p.Sort == UserSortCreatedAt && p.Order == Desc:
		rows, err = q.UserListByCreatedAtDesc(ctx, conn, db.UserListByCreatedAtDescParams(args))
	case p.Sort == UserSortName && p.Order == Asc:
		rows, err = q.UserListByNameAsc(ctx, conn, db.UserListByNameAscParams(args))
	case p.Sort == UserSortName && p.Order == Desc:
		rows, err = q.UserListByNameDesc(ctx, conn, db.UserListByNameDescParams(args))
	case p.Sort == UserSortEmail && p.Order == Asc:
		rows, err = q.UserListByEmailAsc(ctx, conn, db.UserListByEmailAscParams(args))
	case p.Sort == UserSortEmail && p.Order == Desc:
		rows, err = q.UserListByEmailDesc(ctx, conn, db.UserListByEmailDescParams(args))
	}
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	total, err := q.UserCount(ctx, conn, args.Pattern)
	if err != nil {
		return UserPage{}, fmt.Errorf("count users: %w", err)
	}
	users := make([]User, len(rows))
	for i, r := range rows {
		users[i] = toUser(r)
	}
	return UserPage{Users: users, Total: total}, nil
}

// normalize fills defaults and rejects values outside the whitelist, so that only known queries run.
func (p ListUsersParams) normalize() (ListUsersParams, error) {
	if p.Page == 0 {
		p.Page = 1
	}
	if p.Limit == 0 {
		p.Limit = 20
	}
	if p.Sort == "" {
		p.Sort = UserSortCreatedAt
	}
	if p.Order == "" {
		p.Order = Desc
	}
	fe := fieldErrors{}
	if p.Page < 1 || p.Page > MaxPage {
		fe.add("page", fmt.Sprintf("must be between 1 and %d", MaxPage))
	}
	if p.Limit < 1 || p.Limit > MaxPageSize {
		fe.add("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	switch p.Sort {
	case UserSortCreatedAt, UserSortName, UserSortEmail:
	default:
		fe.add("sort", "must be one of createdAt, name, email")
	}
	if p.Order != Asc && p.Order != Desc {
		fe.add("order", "must be asc or desc")
	}
	if utf8.RuneCountInString(p.Search) > SearchMaxLen || !validText(p.Search) {
		fe.add("search", fmt.Sprintf("must be at most %d characters of valid text", SearchMaxLen))
	}
	return p, fe.err()
}

// containsPattern turns a search term into an ILIKE pattern matching it anywhere, with LIKE's wildcards in the
// term escaped so that "%" and "_" match themselves. An empty term means no filter.
func containsPattern(term string) *string {
	if term == "" {
		return nil
	}
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term)
	pattern := "%" + escaped + "%"
	return &pattern
}

// CreateUser validates in, hashes the password and inserts the user. ECONFLICT when the email is taken in any case.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (User, error) {
	fe := fieldErrors{}
	checkName(fe, in.Name)
	checkEmail(fe, in.Email)
	checkPassword(fe, in.Password)
	if err := fe.err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	var row db.User
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		row, err = s.queries.UserCreate(ctx, tx, db.UserCreateParams{Name: in.Name, Email: in.Email, PasswordHash: hash})
		return err
	})
	if postgres.IsUniqueViolation(err, emailUniqueIndex) {
		return User{}, emailTaken()
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return toUser(row), nil
}

// UpdateUser changes the given fields of user id. ENOTFOUND, ECONFLICT or EINVALID as the case may be.
func (s *Service) UpdateUser(ctx context.Context, id uuid.UUID, in UpdateUserInput) (User, error) {
	fe := fieldErrors{}
	if in.Name == nil && in.Email == nil {
		fe.add("body", "must set at least one field")
	}
	if in.Name != nil {
		checkName(fe, *in.Name)
	}
	if in.Email != nil {
		checkEmail(fe, *in.Email)
	}
	if err := fe.err(); err != nil {
		return User{}, err
	}
	var row db.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		row, err = s.queries.UserUpdate(ctx, tx, db.UserUpdateParams{ID: id, Name: in.Name, Email: in.Email})
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, notFound("User")
	case postgres.IsUniqueViolation(err, emailUniqueIndex):
		return User{}, emailTaken()
	case err != nil:
		return User{}, fmt.Errorf("update user: %w", err)
	}
	return toUser(row), nil
}

// DeleteUser deletes user id, or returns ENOTFOUND.
func (s *Service) DeleteUser(ctx context.Context, id uuid.UUID) error {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = s.queries.UserDelete(ctx, tx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n == 0 {
		return notFound("User")
	}
	return nil
}

func emailTaken() error {
	return &Error{Code: ECONFLICT, Message: "A user with this email already exists.",
		Fields: map[string][]string{"email": {"is already taken"}}}
}

func checkName(fe fieldErrors, name string) {
	n := utf8.RuneCountInString(name)
	switch {
	case n < 1 || n > NameMaxLen:
		fe.add("name", fmt.Sprintf("must be 1 to %d characters", NameMaxLen))
	case strings.TrimSpace(name) == "":
		fe.add("name", "must not be blank")
	case !validText(name) || strings.ContainsFunc(name, unicode.IsControl):
		fe.add("name", "must not contain control characters")
	}
}

func checkEmail(fe fieldErrors, email string) {
	if len(email) > EmailMaxLen {
		fe.add("email", fmt.Sprintf("must be at most %d characters", EmailMaxLen))
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		fe.add("email", "must be a valid email address")
	}
}

func checkPassword(fe fieldErrors, pw string) {
	if n := utf8.RuneCountInString(pw); n < PasswordMinLen || n > PasswordMaxLen {
		fe.add("password", fmt.Sprintf("must be %d to %d characters", PasswordMinLen, PasswordMaxLen))
	}
}

// validText reports whether s is valid UTF-8 that PostgreSQL can store (text cannot hold NUL).
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
