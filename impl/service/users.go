package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

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
	MaxBatchIDs    = 100
	// MaxIncludedPosts bounds the posts embedded in a user by GetUserWithPosts.
	MaxIncludedPosts = 100
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
}

// GetUser returns the user with id, or ENOTFOUND. Only signed-in callers may read users.
func (s *Service) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	if _, err := requireActor(ctx); err != nil {
		return User{}, err
	}
	row, err := s.queries.UserGetByID(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, notFound("User")
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return toUser(row), nil
}

// GetUserWithPosts returns the user with id and its newest posts that the caller may see, read in one statement.
func (s *Service) GetUserWithPosts(ctx context.Context, id uuid.UUID) (User, []Post, error) {
	if _, err := requireActor(ctx); err != nil {
		return User{}, nil, err
	}
	row, err := s.queries.UserGetWithPosts(ctx, s.pool, db.UserGetWithPostsParams{
		ID: id, Viewer: viewerOf(ctx), MaxPosts: MaxIncludedPosts,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, nil, notFound("User")
	}
	if err != nil {
		return User{}, nil, fmt.Errorf("get user with posts: %w", err)
	}
	var rows []postJSON
	if err := json.Unmarshal(row.Posts, &rows); err != nil {
		return User{}, nil, fmt.Errorf("get user with posts: decode posts: %w", err)
	}
	posts := make([]Post, len(rows))
	for i, r := range rows {
		posts[i] = r.toPost()
	}
	u := User{ID: row.ID, Name: row.Name, Email: row.Email, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}
	return u, posts, nil
}

// GetUsersByIDs returns those of ids that are users, newest first, in one query.
func (s *Service) GetUsersByIDs(ctx context.Context, ids []uuid.UUID) ([]User, error) {
	if _, err := requireActor(ctx); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > MaxBatchIDs {
		return nil, &Error{Code: EINVALID, Message: "The request is invalid.",
			Fields: map[string][]string{"ids": {fmt.Sprintf("must hold 1 to %d ids", MaxBatchIDs)}}}
	}
	rows, err := s.queries.UserListByIDs(ctx, s.pool, ids)
	if err != nil {
		return nil, fmt.Errorf("get users by ids: %w", err)
	}
	return toUsers(rows), nil
}

// ListUsers returns a page of users, filtered by a case-insensitive substring of name or email. Only signed-in
// callers may list users.
func (s *Service) ListUsers(ctx context.Context, p ListUsersParams) (UserPage, error) {
	if _, err := requireActor(ctx); err != nil {
		return UserPage{}, err
	}
	p, err := p.normalize()
	if err != nil {
		return UserPage{}, err
	}
	args := db.UserListByCreatedAtAscParams{
		Pattern:   containsPattern(p.Search),
		RowLimit:  int32(p.Limit) + 1, // one more, to know whether a next page exists
		RowOffset: offset(p.Page, p.Limit),
	}
	var rows []db.User
	q, conn := s.queries, postgres.CustomPlans(s.pool)
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
	page := UserPage{Total: -1, HasMore: len(rows) > p.Limit}
	page.Users = toUsers(rows[:min(len(rows), p.Limit)])
	if !p.SkipTotal {
		if page.Total, err = s.countUsers(ctx, args.Pattern); err != nil {
			return UserPage{}, fmt.Errorf("count users: %w", err)
		}
	}
	return page, nil
}

// normalize fills defaults and rejects values outside the whitelist, so that only known queries run.
func (p ListUsersParams) normalize() (ListUsersParams, error) {
	fe := fieldErrors{}
	checkPage(fe, &p.Page, &p.Limit)
	checkOrder(fe, &p.Order)
	if p.Sort == "" {
		p.Sort = UserSortCreatedAt
	}
	switch p.Sort {
	case UserSortCreatedAt, UserSortName, UserSortEmail:
	default:
		fe.add("sort", "must be one of createdAt, name, email")
	}
	if utf8.RuneCountInString(p.Search) > SearchMaxLen || !validText(p.Search) {
		fe.add("search", fmt.Sprintf("must be at most %d characters of valid text", SearchMaxLen))
	}
	return p, fe.err()
}

// containsPattern turns a search term into a LIKE pattern matching it anywhere, with LIKE's wildcards in the
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
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, EmailArgs{Type: EmailWelcome, To: row.Email, Name: row.Name})
	})
	if postgres.IsUniqueViolation(err, emailUniqueIndex) {
		return User{}, emailTaken()
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	s.totals.forget(totalsUsers)
	return toUser(row), nil
}

// UpdateUser changes the given fields of user id. Users may only change themselves. Changing the email or the
// password needs the current password: EINVALID without it, EFORBIDDEN with a wrong one. In the transaction of the
// update, an email change queues a notice to the old address and a password change one to the account's address;
// either burns the open reset tokens (they went to, or were asked for by, an address or password no longer
// current), and a new password ends every session, as a reset does.
func (s *Service) UpdateUser(ctx context.Context, id uuid.UUID, in UpdateUserInput) (User, error) {
	if err := s.requireSelf(ctx, id); err != nil {
		return User{}, err
	}
	fe := fieldErrors{}
	if in.Name == nil && in.Email == nil && in.Password == nil {
		fe.add("body", "must set at least one of name, email and password")
	}
	if in.Name != nil {
		checkName(fe, *in.Name)
	}
	if in.Email != nil {
		checkEmail(fe, *in.Email)
	}
	if in.Password != nil {
		checkPassword(fe, *in.Password)
	}
	if err := fe.err(); err != nil {
		return User{}, err
	}
	cur, err := s.queries.UserGetByID(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, notFound("User")
	}
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	emailChanges := in.Email != nil && !sameEmail(*in.Email, cur.Email)
	passwordChanges := in.Password != nil
	var newHash *string
	if emailChanges || passwordChanges {
		if err := s.checkCurrentPassword(ctx, in.CurrentPassword, cur.PasswordHash); err != nil {
			return User{}, err
		}
		if passwordChanges {
			hash, err := s.hasher.Hash(ctx, *in.Password)
			if err != nil {
				return User{}, fmt.Errorf("update user: %w", err)
			}
			newHash = &hash
		}
	}
	var row db.User
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		row, err = s.queries.UserUpdate(ctx, tx, db.UserUpdateParams{
			ID: id, Name: in.Name, Email: in.Email, PasswordHash: newHash,
			SeenEmail: cur.Email, SeenPasswordHash: cur.PasswordHash,
		})
		if err != nil {
			return err
		}
		if !emailChanges && !passwordChanges {
			return nil
		}
		if err := s.queries.PasswordResetTokenUseAll(ctx, tx, id); err != nil {
			return err
		}
		// The notices go to the address the account had until now: after a takeover that is the owner's.
		var notices []river.InsertManyParams
		if emailChanges {
			notices = append(notices, river.InsertManyParams{Args: EmailArgs{Type: EmailEmailChanged, To: cur.Email, Name: row.Name, NewEmail: row.Email}})
		}
		if passwordChanges {
			notices = append(notices, river.InsertManyParams{Args: EmailArgs{Type: EmailPasswordChanged, To: cur.Email, Name: row.Name}})
		}
		if _, err := s.jobs.InsertManyTx(ctx, tx, notices); err != nil {
			return fmt.Errorf("insert notice jobs: %w", err)
		}
		return nil
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Deleted, or its email or password changed since it was read: either way this request's check is stale.
		exists, xerr := s.queries.UserExists(ctx, s.pool, id)
		if xerr != nil {
			return User{}, fmt.Errorf("update user: %w", xerr)
		}
		if !exists {
			return User{}, notFound("User")
		}
		return User{}, &Error{Code: ECONFLICT, Message: "The account changed while this request was checked; retry."}
	case postgres.IsUniqueViolation(err, emailUniqueIndex):
		return User{}, emailTaken()
	case err != nil:
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if passwordChanges {
		s.authCache.evict(id) // the earlier sessions end here at once; other instances hear of it from the database
	}
	s.totals.forget(totalsUsers) // a new name or email changes what a search counts
	return toUser(row), nil
}

var errCurrentPasswordWrong = &Error{Code: EFORBIDDEN, Message: "The current password is wrong.",
	Fields: map[string][]string{"currentPassword": {"is wrong"}}}

// checkCurrentPassword verifies the proof that the caller knows the account's password, with the same argon2id
// check as a sign-in.
func (s *Service) checkCurrentPassword(ctx context.Context, current *string, hash string) error {
	if current == nil || *current == "" {
		return &Error{Code: EINVALID, Message: "The request is invalid.",
			Fields: map[string][]string{"currentPassword": {"is required to change the email or the password"}}}
	}
	if utf8.RuneCountInString(*current) > PasswordMaxLen {
		return errCurrentPasswordWrong
	}
	ok, err := s.hasher.Verify(ctx, *current, hash)
	if err != nil {
		return fmt.Errorf("check current password: %w", err)
	}
	if !ok {
		return errCurrentPasswordWrong
	}
	return nil
}

// sameEmail reports whether a and b differ at most in the case of ASCII letters, as the unique index and every
// lookup by email treat them (lower(email)). Other differences count as a new address: folding non-ASCII case
// the way PostgreSQL's lower() does is locale-dependent, and calling a new address old would skip the password.
func sameEmail(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// DeleteUser deletes user id with their posts and comments. Users may only delete themselves.
func (s *Service) DeleteUser(ctx context.Context, id uuid.UUID) error {
	if err := s.requireSelf(ctx, id); err != nil {
		return err
	}
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
	s.authCache.evict(id) // at once here; other instances hear of it from the database
	s.totals.forget(totalsUsers)
	s.totals.forget(totalsPosts) // their posts went with them
	return nil
}

// requireSelf allows a signed-in caller to act on their own account only: ENOTFOUND for an account that does not
// exist, EFORBIDDEN for someone else's.
func (s *Service) requireSelf(ctx context.Context, id uuid.UUID) error {
	actor, err := requireActor(ctx)
	if err != nil {
		return err
	}
	if actor.UserID == id {
		return nil
	}
	exists, err := s.queries.UserExists(ctx, s.pool, id)
	if err != nil {
		return fmt.Errorf("check user: %w", err)
	}
	if !exists {
		return notFound("User")
	}
	return forbidden("You may only change your own account.")
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
	case blank(name):
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
	if err != nil || addr.Address != email || addr.Name != "" || !emailPattern.MatchString(email) {
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
