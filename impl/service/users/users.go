// Package users is the user resource: sign-up, reading and listing users, changing and deleting one's own account.
package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/authcache"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/service/internal/totals"
)

// emailUniqueIndex is the unique index on lower(email) (migrations/00001_users.sql).
const emailUniqueIndex = "users_email_lower_key"

// Service reads and writes users. It is safe for concurrent use.
type Service struct {
	core   *core.Core
	hasher *password.Hasher
	// sessions is forgotten for a user whose password changes or who is deleted, so that their tokens stop at once.
	sessions *authcache.Cache
	totals   *totals.Cache
}

// New returns a Service over c.
func New(c *core.Core, hasher *password.Hasher, sessions *authcache.Cache, totals *totals.Cache) *Service {
	return &Service{core: c, hasher: hasher, sessions: sessions, totals: totals}
}

// Get returns the user with id, or ENOTFOUND. Only signed-in callers may read users.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (service.User, error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return service.User{}, err
	}
	row, err := s.core.Queries.UserGetByID(ctx, s.core.DB, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return service.User{}, core.NotFound("User")
	}
	if err != nil {
		return service.User{}, fmt.Errorf("get user: %w", err)
	}
	return core.ToUser(row), nil
}

// GetWithPosts returns the user with id and its newest posts that the caller may see, read in one statement.
func (s *Service) GetWithPosts(ctx context.Context, id uuid.UUID) (service.User, []service.Post, error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return service.User{}, nil, err
	}
	row, err := s.core.Queries.UserGetWithPosts(ctx, s.core.DB, db.UserGetWithPostsParams{
		ID: id, Viewer: core.Viewer(ctx), MaxPosts: service.MaxIncludedPosts,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return service.User{}, nil, core.NotFound("User")
	}
	if err != nil {
		return service.User{}, nil, fmt.Errorf("get user with posts: %w", err)
	}
	var rows []core.PostJSON
	if err := json.Unmarshal(row.Posts, &rows); err != nil {
		return service.User{}, nil, fmt.Errorf("get user with posts: decode posts: %w", err)
	}
	posts := make([]service.Post, len(rows))
	for i, r := range rows {
		posts[i] = service.Post(r)
	}
	u := service.User{ID: row.ID, Name: row.Name, Email: row.Email, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, Version: row.Version}
	return u, posts, nil
}

// ByIDs returns those of ids that are users, newest first, in one statement: REST's batch lookup (which the
// contract caps at 100 ids) and GraphQL's dataloader (whose batches the query cost bounds). Signed-in callers only,
// as every read of users.
func (s *Service) ByIDs(ctx context.Context, ids []uuid.UUID) ([]service.User, error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return nil, err
	}
	rows, err := s.core.Queries.UserListByIDs(ctx, s.core.DB, ids)
	if err != nil {
		return nil, fmt.Errorf("users by ids: %w", err)
	}
	return core.ToUsers(rows), nil
}

// List returns a page of users, filtered by a case-insensitive substring of name or email. Only signed-in
// callers may list users.
func (s *Service) List(ctx context.Context, p service.ListUsersParams) (service.UserPage, error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return service.UserPage{}, err
	}
	p, err := normalize(p)
	if err != nil {
		return service.UserPage{}, err
	}
	pattern := core.ContainsPattern(p.Search)
	page := service.UserPage{Total: -1}
	// The term's total, counted or remembered, says whether its matches are few. A remembered one may lag the
	// table by a few seconds; it only chooses how to read the page, which is read afresh and exact either way.
	var total int64
	known := false
	if p.SkipTotal {
		total, known = s.totals.Peek(countKey(pattern))
	} else {
		if page.Total, err = s.count(ctx, pattern); err != nil {
			return service.UserPage{}, fmt.Errorf("count users: %w", err)
		}
		total, known = page.Total, true
	}
	limit, offset := int32(p.Limit)+1, core.Offset(p.Page, p.Limit) // one more, to know whether a next page exists
	var users []service.User
	if pattern != nil && known && total <= fewMatches {
		users, err = s.searchFew(ctx, *pattern, p.Sort, p.Order, limit, offset)
	} else {
		var rows []db.User
		rows, err = s.walk(ctx, db.UserListByCreatedAtAscParams{Pattern: pattern, RowLimit: limit, RowOffset: offset}, p.Sort, p.Order)
		users = core.ToUsers(rows)
	}
	if err != nil {
		return service.UserPage{}, fmt.Errorf("list users: %w", err)
	}
	page.HasMore = len(users) > p.Limit
	page.Users = users[:min(len(users), p.Limit)]
	return page, nil
}

// fewMatches is the most matches a search reads all of through the trigram index and sorts (UserSearchFewBy…)
// rather than walk a sort index and filter, which reads about (offset+limit) × users / matches rows: at 100,000
// users the two cost about the same for a first page at a few hundred matches, and the sort's cost stays bounded
// by this for any page, where a walk's grows with the offset.
const fewMatches = 500

// searchFew reads a page of the users matching pattern, which are few, through cached generic plans.
func (s *Service) searchFew(ctx context.Context, pattern string, sort service.UserSort, order service.SortOrder, limit, offset int32) ([]service.User, error) {
	q, conn := s.core.Queries, s.core.DB
	args := db.UserSearchFewByCreatedAtAscParams{Pattern: pattern, RowLimit: limit, RowOffset: offset}
	switch {
	case sort == service.UserSortCreatedAt && order == service.Asc:
		return listed(q.UserSearchFewByCreatedAtAsc(ctx, conn, args))
	case sort == service.UserSortCreatedAt && order == service.Desc:
		return listed(q.UserSearchFewByCreatedAtDesc(ctx, conn, db.UserSearchFewByCreatedAtDescParams(args)))
	case sort == service.UserSortName && order == service.Asc:
		return listed(q.UserSearchFewByNameAsc(ctx, conn, db.UserSearchFewByNameAscParams(args)))
	case sort == service.UserSortName && order == service.Desc:
		return listed(q.UserSearchFewByNameDesc(ctx, conn, db.UserSearchFewByNameDescParams(args)))
	case sort == service.UserSortEmail && order == service.Asc:
		return listed(q.UserSearchFewByEmailAsc(ctx, conn, db.UserSearchFewByEmailAscParams(args)))
	case sort == service.UserSortEmail && order == service.Desc:
		return listed(q.UserSearchFewByEmailDesc(ctx, conn, db.UserSearchFewByEmailDescParams(args)))
	}
	return nil, fmt.Errorf("unknown order %s %s", sort, order) // normalize lets none through
}

// listedRow is a row of the UserSearchFewBy… queries: the columns a listed user shows.
type listedRow interface {
	~struct {
		ID        uuid.UUID
		Name      string
		Email     string
		CreatedAt time.Time
		UpdatedAt time.Time
		Version   int64
	}
}

// listed converts the rows of a UserSearchFewBy… query.
func listed[R listedRow](rows []R, err error) ([]service.User, error) {
	if err != nil {
		return nil, err
	}
	users := make([]service.User, len(rows))
	for i, r := range rows {
		users[i] = service.User(r)
	}
	return users, nil
}

// walk reads a page by walking the index of its order, filtering on the pattern (nil: every user). Each run is
// planned for its values (postgres.CustomPlans): whether to walk or to read the trigram index depends on the term.
func (s *Service) walk(ctx context.Context, args db.UserListByCreatedAtAscParams, sort service.UserSort, order service.SortOrder) ([]db.User, error) {
	q, conn := s.core.Queries, postgres.CustomPlans(s.core.DB)
	switch {
	case sort == service.UserSortCreatedAt && order == service.Asc:
		return q.UserListByCreatedAtAsc(ctx, conn, args)
	case sort == service.UserSortCreatedAt && order == service.Desc:
		return q.UserListByCreatedAtDesc(ctx, conn, db.UserListByCreatedAtDescParams(args))
	case sort == service.UserSortName && order == service.Asc:
		return q.UserListByNameAsc(ctx, conn, db.UserListByNameAscParams(args))
	case sort == service.UserSortName && order == service.Desc:
		return q.UserListByNameDesc(ctx, conn, db.UserListByNameDescParams(args))
	case sort == service.UserSortEmail && order == service.Asc:
		return q.UserListByEmailAsc(ctx, conn, db.UserListByEmailAscParams(args))
	case sort == service.UserSortEmail && order == service.Desc:
		return q.UserListByEmailDesc(ctx, conn, db.UserListByEmailDescParams(args))
	}
	return nil, fmt.Errorf("unknown order %s %s", sort, order) // normalize lets none through
}

// normalize fills defaults and rejects values outside the whitelist, so that only known queries run.
func normalize(p service.ListUsersParams) (service.ListUsersParams, error) {
	fe := core.FieldErrors{}
	core.CheckPage(fe, &p.Page, &p.Limit)
	core.CheckOrder(fe, &p.Order)
	if p.Sort == "" {
		p.Sort = service.UserSortCreatedAt
	}
	switch p.Sort {
	case service.UserSortCreatedAt, service.UserSortName, service.UserSortEmail:
	default:
		fe.Add("sort", "must be one of createdAt, name, email")
	}
	core.CheckSearch(fe, p.Search, service.SearchMaxLen)
	return p, fe.Err()
}

// ByCursor returns a keyset page of users, newest first, filtered like List. Signed-in callers only.
func (s *Service) ByCursor(ctx context.Context, search string, p service.KeysetParams) (service.Page[service.User], error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return service.Page[service.User]{}, err
	}
	k, err := core.PlanKeyset(p)
	if err != nil {
		return service.Page[service.User]{}, err
	}
	fe := core.FieldErrors{}
	core.CheckSearch(fe, search, service.SearchMaxLen)
	if err := fe.Err(); err != nil {
		return service.Page[service.User]{}, err
	}
	t, id, limit := k.Args()
	pattern, conn := core.ContainsPattern(search), postgres.CustomPlans(s.core.DB)
	var rows []db.User
	if k.Forward {
		rows, err = s.core.Queries.UserKeysetForward(ctx, conn, db.UserKeysetForwardParams{Pattern: pattern, CursorTime: t, CursorID: id, RowLimit: limit})
	} else {
		rows, err = s.core.Queries.UserKeysetBackward(ctx, conn, db.UserKeysetBackwardParams{Pattern: pattern, CursorTime: t, CursorID: id, RowLimit: limit})
	}
	if err != nil {
		return service.Page[service.User]{}, fmt.Errorf("users by cursor: %w", err)
	}
	return core.FinishKeyset(k, core.ToUsers(rows), func(u service.User) service.Cursor { return service.Cursor{CreatedAt: u.CreatedAt, ID: u.ID} }), nil
}

// Count counts the users matching search. Signed-in callers only.
func (s *Service) Count(ctx context.Context, search string) (int64, error) {
	if _, err := core.RequireActor(ctx); err != nil {
		return 0, err
	}
	n, err := s.count(ctx, core.ContainsPattern(search))
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// count counts the users matching pattern (nil: all), through the totals cache.
func (s *Service) count(ctx context.Context, pattern *string) (int64, error) {
	return s.totals.Get(ctx, countKey(pattern), func(ctx context.Context) (int64, error) {
		return s.core.Queries.UserCount(ctx, postgres.CustomPlans(s.core.DB), pattern)
	})
}

// countKey is the totals cache's key for the users matching pattern (nil: all).
func countKey(pattern *string) string {
	return totals.Key(totals.Users, totals.Filter(pattern, func(p string) string { return p }))
}

// Create validates in, hashes the password and inserts the user, queuing the welcome email in the same
// transaction. ECONFLICT when the email is taken in any case.
func (s *Service) Create(ctx context.Context, in service.CreateUserInput) (service.User, error) {
	fe := core.FieldErrors{}
	core.CheckLine(fe, "name", in.Name, service.NameMaxLen)
	checkEmail(fe, in.Email)
	core.CheckPassword(fe, in.Password)
	if err := fe.Err(); err != nil {
		return service.User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return service.User{}, fmt.Errorf("create user: %w", err)
	}
	var row db.User
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		row, err = s.core.Queries.UserCreate(ctx, tx, db.UserCreateParams{Name: in.Name, Email: in.Email, PasswordHash: hash})
		if err != nil {
			return err
		}
		if err := s.core.Publish(ctx, tx, service.WebhookMessage{Type: service.WebhookUserCreated, OwnerID: &row.ID, Data: core.ToUser(row)}); err != nil {
			return err
		}
		return s.core.Enqueue(ctx, tx, service.EmailArgs{Type: service.EmailWelcome, To: row.Email, Name: row.Name})
	})
	if postgres.IsUniqueViolation(err, emailUniqueIndex) {
		return service.User{}, emailTaken()
	}
	if err != nil {
		return service.User{}, fmt.Errorf("create user: %w", err)
	}
	s.totals.Forget(totals.Users)
	return core.ToUser(row), nil
}

// Update changes the given fields of user id. Users may only change themselves. Changing the email or the
// password needs the current password: EINVALID without it, EFORBIDDEN with a wrong one. In the transaction of the
// update, an email change queues a notice to the old address and a password change one to the account's address;
// either burns the open reset tokens (they went to, or were asked for by, an address or password no longer
// current), and a new password ends every session, as a reset does.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in service.UpdateUserInput) (service.User, error) {
	if err := s.requireSelf(ctx, id); err != nil {
		return service.User{}, err
	}
	fe := core.FieldErrors{}
	if in.Name == nil && in.Email == nil && in.Password == nil {
		fe.Add("body", "must set at least one of name, email and password")
	}
	if in.Name != nil {
		core.CheckLine(fe, "name", *in.Name, service.NameMaxLen)
	}
	if in.Email != nil {
		checkEmail(fe, *in.Email)
	}
	if in.Password != nil {
		core.CheckPassword(fe, *in.Password)
	}
	if err := fe.Err(); err != nil {
		return service.User{}, err
	}
	cur, err := s.core.Queries.UserGetByID(ctx, s.core.DB, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return service.User{}, core.NotFound("User")
	}
	if err != nil {
		return service.User{}, fmt.Errorf("update user: %w", err)
	}
	emailChanges := in.Email != nil && !sameEmail(*in.Email, cur.Email)
	passwordChanges := in.Password != nil
	if emailChanges || passwordChanges {
		if err := s.checkCurrentPassword(ctx, in.CurrentPassword, cur.PasswordHash); err != nil {
			return service.User{}, err
		}
	}
	if !in.Precondition.Holds(cur.Version) {
		// After the checks that the request would fail without If-Match (400 and 403 come first, RFC 9110,
		// section 13.2.1), before the new password's hash: a stale write spends none.
		if in.Replace && in.Precondition.MayAnswerApplied() && replaced(in, cur) {
			// Most likely this request's own retry, its first answer lost: the user is as it asks.
			return core.ToUser(cur), nil
		}
		return service.User{}, service.PreconditionFailed("user", cur.Version)
	}
	var newHash *string
	if passwordChanges {
		hash, err := s.hasher.Hash(ctx, *in.Password)
		if err != nil {
			return service.User{}, fmt.Errorf("update user: %w", err)
		}
		newHash = &hash
	}
	var row db.User
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		row, err = s.core.Queries.UserUpdate(ctx, tx, db.UserUpdateParams{
			ID: id, Name: in.Name, Email: in.Email, PasswordHash: newHash,
			SeenEmail: cur.Email, SeenPasswordHash: cur.PasswordHash, IfMatch: in.Precondition.Arg(), IfNoneMatch: in.Precondition.ExceptArg(),
		})
		if err != nil {
			return err
		}
		if !emailChanges && !passwordChanges {
			return nil
		}
		if err := s.core.Queries.PasswordResetTokenUseAll(ctx, tx, id); err != nil {
			return err
		}
		// The notices go to the address the account had until now: after a takeover that is the owner's.
		var notices []river.InsertManyParams
		if emailChanges {
			notices = append(notices, river.InsertManyParams{Args: service.EmailArgs{Type: service.EmailEmailChanged, To: cur.Email, Name: row.Name, NewEmail: row.Email}})
		}
		if passwordChanges {
			notices = append(notices, river.InsertManyParams{Args: service.EmailArgs{Type: service.EmailPasswordChanged, To: cur.Email, Name: row.Name}})
		}
		return s.core.EnqueueMany(ctx, tx, notices)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Deleted, changed past If-Match, or its email or password changed since it was read: the row says which.
		if why := core.Unwritten("User", in.Precondition, func() (int64, error) {
			now, err := s.core.Queries.UserGetByID(ctx, s.core.DB, id)
			return now.Version, err
		}); why != nil {
			return service.User{}, why
		}
		return service.User{}, &service.Error{Code: service.ECONFLICT, Message: "The account changed while this request was checked; retry."}
	case postgres.IsUniqueViolation(err, emailUniqueIndex):
		return service.User{}, emailTaken()
	case err != nil:
		return service.User{}, fmt.Errorf("update user: %w", err)
	}
	if passwordChanges {
		s.sessions.Evict(id) // the earlier sessions end here at once; other instances hear of it from the database
	}
	s.totals.Forget(totals.Users) // a new name or email changes what a search counts
	return core.ToUser(row), nil
}

// replaced reports whether user u already holds exactly what replacement in states.
func replaced(in service.UpdateUserInput, u db.User) bool {
	return in.Password == nil && in.Name != nil && *in.Name == u.Name && in.Email != nil && *in.Email == u.Email
}

var errCurrentPasswordWrong = &service.Error{Code: service.EFORBIDDEN, Message: "The current password is wrong.",
	Fields: map[string][]string{"currentPassword": {"is wrong"}}}

// checkCurrentPassword verifies the proof that the caller knows the account's password, with the same argon2id
// check as a sign-in.
func (s *Service) checkCurrentPassword(ctx context.Context, current *string, hash string) error {
	if current == nil || *current == "" {
		return core.Invalid("currentPassword", "is required to change the email or the password")
	}
	if utf8.RuneCountInString(*current) > service.PasswordMaxLen {
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

// Delete deletes user id with their posts and comments, if the user's version meets m. Users may only delete
// themselves.
func (s *Service) Delete(ctx context.Context, id uuid.UUID, m service.Match) error {
	if err := s.requireSelf(ctx, id); err != nil {
		return err
	}
	err := s.core.InTx(ctx, func(tx pgx.Tx) error {
		row, err := s.core.Queries.UserDelete(ctx, tx, db.UserDeleteParams{ID: id, IfMatch: m.Arg(), IfNoneMatch: m.ExceptArg()})
		if errors.Is(err, pgx.ErrNoRows) { // deleted meanwhile, or kept by its precondition
			if why := core.Unwritten("User", m, func() (int64, error) {
				now, err := s.core.Queries.UserGetByID(ctx, tx, id)
				return now.Version, err
			}); why != nil {
				return why
			}
			return errors.New("delete user: no row deleted")
		}
		if err != nil {
			return err
		}
		return s.core.Publish(ctx, tx, service.WebhookMessage{Type: service.WebhookUserDeleted, OwnerID: &row.ID, Data: core.ToUser(row)})
	})
	var se *service.Error
	if errors.As(err, &se) {
		return se
	}
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	s.sessions.Evict(id) // at once here; other instances hear of it from the database
	s.totals.Forget(totals.Users)
	s.totals.Forget(totals.Posts) // their posts went with them
	return nil
}

// requireSelf allows a signed-in caller to act on their own account only: ENOTFOUND for an account that does not
// exist, EFORBIDDEN for someone else's.
func (s *Service) requireSelf(ctx context.Context, id uuid.UUID) error {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return err
	}
	if actor.UserID == id {
		return nil
	}
	if err := s.core.RequireUser(ctx, id); err != nil {
		return err
	}
	return core.Forbidden("You may only change your own account.")
}

func emailTaken() error {
	return &service.Error{Code: service.ECONFLICT, Message: "A user with this email already exists.",
		Fields: map[string][]string{"email": {"is already taken"}}}
}

func checkEmail(fe core.FieldErrors, email string) {
	if len(email) > service.EmailMaxLen {
		fe.Add("email", fmt.Sprintf("must be at most %d characters", service.EmailMaxLen))
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || !core.EmailPattern.MatchString(email) {
		fe.Add("email", "must be a valid email address")
	}
}
