package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/postgres"
)

// statements records the SQL a pool sends, so that two code paths can be compared statement by statement.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sql = append(s.sql, d.SQL)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the statements recorded since the last take.
func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sql
	s.sql = nil
	return out
}

// TestPasswordResetRequestDoesTheSameWorkForAnyEmail: the request path sends the very same statements for a known
// and an unknown email, with only the email differing in the job's args; the lookup happens in the job. The
// timing test (httpapi) measures the result; this one shows why it holds, without a clock.
func TestPasswordResetRequestDoesTheSameWorkForAnyEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dbtest.NewURL(t))
	require.NoError(t, err)
	rec := &statements{}
	cfg.ConnConfig.Tracer = rec
	cfg.AfterConnect = postgres.AfterConnect
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := newServiceOn(t, pool, nil)
	_, err = s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "DELETE FROM river_job") // the welcome
	require.NoError(t, err)

	// Warm both paths first (prepared statements are per connection), then record each once.
	require.NoError(t, s.RequestPasswordReset(ctx, "warm@example.com"))
	rec.take()
	require.NoError(t, s.RequestPasswordReset(ctx, "ada@example.com"))
	known := rec.take()
	require.NoError(t, s.RequestPasswordReset(ctx, "nobody@example.com"))
	unknown := rec.take()
	require.NotEmpty(t, known)
	require.Equal(t, known, unknown, "the same statements whether or not the account exists")

	var tokens int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM password_reset_tokens").Scan(&tokens))
	require.Zero(t, tokens, "no token yet: the job issues it")
	rows, err := pool.Query(ctx, "SELECT kind, args FROM river_job ORDER BY id")
	require.NoError(t, err)
	var emails []string
	for rows.Next() {
		var kind string
		var raw []byte
		require.NoError(t, rows.Scan(&kind, &raw))
		require.Equal(t, PasswordResetArgs{}.Kind(), kind, "one job per request, of one kind")
		var a PasswordResetArgs
		require.NoError(t, json.Unmarshal(raw, &a))
		emails = append(emails, a.Email)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"warm@example.com", "ada@example.com", "nobody@example.com"}, emails)
}

// failAfterInsert inserts jobs for real, then fails, as a step after the insert in the same transaction could.
type failAfterInsert struct{ JobInserter }

var errAfterInsert = errors.New("a later step failed")

func (f failAfterInsert) InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	if _, err := f.JobInserter.InsertManyTx(ctx, tx, params); err != nil {
		return nil, err
	}
	return nil, errAfterInsert
}

// TestEmailChangeNoticeCommitsWithTheUpdate: the notice to the old address is inserted in the update's
// transaction, so an update that rolls back after the insert leaves neither the new email nor the notice.
func TestEmailChangeNoticeCommitsWithTheUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := newServiceOn(t, pool, nil)
	ada, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	adaCtx := NewContextWithActor(ctx, Actor{UserID: ada.ID, Role: RoleUser})
	change := UpdateUserInput{Email: ptr("ada.king@example.com"), CurrentPassword: ptr("long enough")}

	failing := newServiceOn(t, pool, func(j JobInserter) JobInserter { return failAfterInsert{j} })
	_, err = failing.UpdateUser(adaCtx, ada.ID, change)
	require.ErrorIs(t, err, errAfterInsert)
	got, err := s.GetUser(adaCtx, ada.ID)
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", got.Email, "the update rolled back")
	require.Len(t, emailJobs(t, pool), 1, "and its notice with it: only the welcome")

	_, err = s.UpdateUser(adaCtx, ada.ID, change)
	require.NoError(t, err)
	jobs := emailJobs(t, pool)
	require.Len(t, jobs, 2)
	require.Equal(t, EmailArgs{Type: EmailEmailChanged, To: "ada@example.com", Name: "Ada", NewEmail: "ada.king@example.com"}, jobs[1])
}

func TestUpdateUserProofOfPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newTestService(t)
	ada, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	adaCtx := NewContextWithActor(ctx, Actor{UserID: ada.ID, Role: RoleUser})
	tests := []struct {
		name  string
		in    UpdateUserInput
		code  Code
		field string
	}{
		{"email without", UpdateUserInput{Email: ptr("x@example.com")}, EINVALID, "currentPassword"},
		{"email with an empty one", UpdateUserInput{Email: ptr("x@example.com"), CurrentPassword: ptr("")}, EINVALID, "currentPassword"},
		{"email with a wrong one", UpdateUserInput{Email: ptr("x@example.com"), CurrentPassword: ptr("wrong password")}, EFORBIDDEN, "currentPassword"},
		{"email with an overlong one", UpdateUserInput{Email: ptr("x@example.com"), CurrentPassword: ptr(strings.Repeat("x", 129))}, EFORBIDDEN, "currentPassword"},
		{"password without", UpdateUserInput{Password: ptr("a new password")}, EINVALID, "currentPassword"},
		{"password with a wrong one", UpdateUserInput{Password: ptr("a new password"), CurrentPassword: ptr("wrong password")}, EFORBIDDEN, "currentPassword"},
		{"short new password", UpdateUserInput{Password: ptr("short"), CurrentPassword: ptr("long enough")}, EINVALID, "password"},
		{"nothing to change", UpdateUserInput{CurrentPassword: ptr("long enough")}, EINVALID, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpdateUser(adaCtx, ada.ID, tt.in)
			var se *Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.code, se.Code)
			require.Contains(t, se.Fields, tt.field)
		})
	}
	got, err := s.GetUser(adaCtx, ada.ID)
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", got.Email, "nothing changed")
	require.Len(t, emailJobs(t, pool), 1, "and nothing was sent but the welcome")

	// A name, or the case of the email's ASCII letters, needs no password and sends nothing.
	for _, in := range []UpdateUserInput{{Name: ptr("Ada King")}, {Name: ptr("Ada King"), Email: ptr("ADA@example.com")}} {
		_, err := s.UpdateUser(adaCtx, ada.ID, in)
		require.NoError(t, err)
	}
	require.Len(t, emailJobs(t, pool), 1)
	// Any other difference is a new address (TestSameEmail has the cases).
	_, err = s.UpdateUser(adaCtx, ada.ID, UpdateUserInput{Email: ptr("ADÄ@example.com")})
	require.Equal(t, EINVALID, ErrorCode(err))
}

func TestSameEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{"ada@example.com", "ada@example.com", true},
		{"ada@example.com", "ADA@Example.COM", true},
		{"ada@example.com", "ada@example.org", false},
		{"ada@example.com", "ada@example.co", false},
		{"ädä@example.com", "ÄDÄ@example.com", false},
		{"kelvin@example.com", "\u212aelvin@example.com", false}, // the Kelvin sign folds to k in Unicode, not in ASCII
	}
	for _, tt := range tests {
		require.Equal(t, tt.same, sameEmail(tt.a, tt.b), "%s vs %s", tt.a, tt.b)
	}
}

// TestPasswordChangeEndsSessions: a password changed while signed in ends every session issued before it, as a
// reset does, burns open reset tokens, and sends a notice.
func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newTestService(t)
	ada, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	before, err := s.Login(ctx, "ada@example.com", "long enough")
	require.NoError(t, err)
	require.NoError(t, s.SendPasswordReset(ctx, "ada@example.com"))
	_, err = s.Authenticate(ctx, before.AccessToken)
	require.NoError(t, err, "the session works before the change")

	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the change comes in a later one
	adaCtx := NewContextWithActor(ctx, Actor{UserID: ada.ID, Role: RoleUser})
	_, err = s.UpdateUser(adaCtx, ada.ID, UpdateUserInput{Password: ptr("a new password"), CurrentPassword: ptr("long enough")})
	require.NoError(t, err)

	_, err = s.Authenticate(ctx, before.AccessToken)
	require.Equal(t, EUNAUTHORIZED, ErrorCode(err), "the earlier session ended")
	_, err = s.Login(ctx, "ada@example.com", "long enough")
	require.Equal(t, EUNAUTHORIZED, ErrorCode(err), "the old password no longer signs in")
	after, err := s.Login(ctx, "ada@example.com", "a new password")
	require.NoError(t, err)
	_, err = s.Authenticate(ctx, after.AccessToken)
	require.NoError(t, err)

	var open int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM password_reset_tokens WHERE used_at IS NULL").Scan(&open))
	require.Zero(t, open, "the reset token asked for before the change is void")
	jobs := emailJobs(t, pool)
	require.Equal(t, EmailArgs{Type: EmailPasswordChanged, To: "ada@example.com", Name: "Ada"}, jobs[len(jobs)-1])
}

// newServiceOn is a Service on pool; wrap, when set, wraps its job inserter.
func newServiceOn(t *testing.T, pool *pgxpool.Pool, wrap func(JobInserter) JobInserter) *Service {
	t.Helper()
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	var jobs JobInserter = inserter
	if wrap != nil {
		jobs = wrap(jobs)
	}
	tokens, err := auth.NewTokens(testSecret, "junction", "junction-api", time.Hour)
	require.NoError(t, err)
	sealer, err := auth.NewSealer(testSecret)
	require.NoError(t, err)
	return New(Deps{
		Pool: pool, Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}),
		Tokens: tokens, Sealer: sealer, Jobs: jobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// TestUserUpdateRefusesAStaleCheck: the update applies only while the row holds the email and hash the current
// password was checked against, so a change that lands between the check and the write is not overwritten.
func TestUserUpdateRefusesAStaleCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newTestService(t)
	ada, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	cur, err := s.queries.UserGetByID(ctx, pool, ada.ID)
	require.NoError(t, err)
	tests := []struct {
		name        string
		email, hash string
		applies     bool
	}{
		{"as read", cur.Email, cur.PasswordHash, true},
		{"the password changed meanwhile", cur.Email, "$argon2id$other", false},
		{"the email changed meanwhile", "other@example.com", cur.PasswordHash, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.queries.UserUpdate(ctx, pool, db.UserUpdateParams{
				ID: ada.ID, Name: ptr("Ada " + tt.name), SeenEmail: tt.email, SeenPasswordHash: tt.hash,
			})
			if tt.applies {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, pgx.ErrNoRows)
			}
		})
	}
	got, err := s.queries.UserGetByID(ctx, pool, ada.ID)
	require.NoError(t, err)
	require.Equal(t, "Ada as read", got.Name, "only the fresh check wrote")
}
