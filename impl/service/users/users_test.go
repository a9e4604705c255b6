package users_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/servicetest"
)

func TestUpdateUserProofOfPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	adaCtx := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID, Role: service.RoleUser})
	tests := []struct {
		name  string
		in    service.UpdateUserInput
		code  service.Code
		field string
	}{
		{"email without", service.UpdateUserInput{Email: new("x@example.com")}, service.EINVALID, "currentPassword"},
		{"email with an empty one", service.UpdateUserInput{Email: new("x@example.com"), CurrentPassword: new("")}, service.EINVALID, "currentPassword"},
		{"email with a wrong one", service.UpdateUserInput{Email: new("x@example.com"), CurrentPassword: new("wrong password")}, service.EFORBIDDEN, "currentPassword"},
		{"email with an overlong one", service.UpdateUserInput{Email: new("x@example.com"), CurrentPassword: new(strings.Repeat("x", 129))}, service.EFORBIDDEN, "currentPassword"},
		{"password without", service.UpdateUserInput{Password: new("a new password")}, service.EINVALID, "currentPassword"},
		{"password with a wrong one", service.UpdateUserInput{Password: new("a new password"), CurrentPassword: new("wrong password")}, service.EFORBIDDEN, "currentPassword"},
		{"short new password", service.UpdateUserInput{Password: new("short"), CurrentPassword: new("long enough")}, service.EINVALID, "password"},
		{"nothing to change", service.UpdateUserInput{CurrentPassword: new("long enough")}, service.EINVALID, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Users.Update(adaCtx, ada.ID, tt.in)
			var se *service.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.code, se.Code)
			require.Contains(t, se.Fields, tt.field)
		})
	}
	got, err := s.Users.Get(adaCtx, ada.ID)
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", got.Email, "nothing changed")
	require.Len(t, servicetest.EmailJobs(t, pool), 1, "and nothing was sent but the welcome")

	// A name, or the case of the email's ASCII letters, needs no password and sends nothing.
	for _, in := range []service.UpdateUserInput{{Name: new("Ada King")}, {Name: new("Ada King"), Email: new("ADA@example.com")}} {
		_, err := s.Users.Update(adaCtx, ada.ID, in)
		require.NoError(t, err)
	}
	require.Len(t, servicetest.EmailJobs(t, pool), 1)
	// Any other difference is a new address (TestSameEmail has the cases).
	_, err = s.Users.Update(adaCtx, ada.ID, service.UpdateUserInput{Email: new("ADÄ@example.com")})
	require.Equal(t, service.EINVALID, service.ErrorCode(err))
}

// TestPasswordChangeEndsSessions: a password changed while signed in ends every session issued before it, as a
// reset does, burns open reset tokens, and sends a notice.
func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	before, err := s.Accounts.Login(ctx, "ada@example.com", "long enough")
	require.NoError(t, err)
	require.NoError(t, s.Accounts.SendPasswordReset(ctx, "ada@example.com"))
	_, err = s.Accounts.Authenticate(ctx, before.AccessToken)
	require.NoError(t, err, "the session works before the change")

	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the change comes in a later one
	adaCtx := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID, Role: service.RoleUser})
	_, err = s.Users.Update(adaCtx, ada.ID, service.UpdateUserInput{Password: new("a new password"), CurrentPassword: new("long enough")})
	require.NoError(t, err)

	_, err = s.Accounts.Authenticate(ctx, before.AccessToken)
	require.Equal(t, service.EUNAUTHORIZED, service.ErrorCode(err), "the earlier session ended")
	_, err = s.Accounts.Login(ctx, "ada@example.com", "long enough")
	require.Equal(t, service.EUNAUTHORIZED, service.ErrorCode(err), "the old password no longer signs in")
	after, err := s.Accounts.Login(ctx, "ada@example.com", "a new password")
	require.NoError(t, err)
	_, err = s.Accounts.Authenticate(ctx, after.AccessToken)
	require.NoError(t, err)

	var open int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM password_reset_tokens WHERE used_at IS NULL").Scan(&open))
	require.Zero(t, open, "the reset token asked for before the change is void")
	jobs := servicetest.EmailJobs(t, pool)
	require.Equal(t, service.EmailArgs{Type: service.EmailPasswordChanged, To: "ada@example.com", Name: "Ada"}, jobs[len(jobs)-1])
}

// failAfterInsert inserts jobs for real, then fails, as a step after the insert in the same transaction could.
type failAfterInsert struct{ service.JobInserter }

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
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	s := servicetest.New(t, pool, servicetest.Options{Jobs: inserter})
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	adaCtx := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID, Role: service.RoleUser})
	change := service.UpdateUserInput{Email: new("ada.king@example.com"), CurrentPassword: new("long enough")}

	failing := servicetest.New(t, pool, servicetest.Options{Jobs: failAfterInsert{inserter}})
	_, err = failing.Users.Update(adaCtx, ada.ID, change)
	require.ErrorIs(t, err, errAfterInsert)
	got, err := s.Users.Get(adaCtx, ada.ID)
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", got.Email, "the update rolled back")
	require.Len(t, servicetest.EmailJobs(t, pool), 1, "and its notice with it: only the welcome")

	_, err = s.Users.Update(adaCtx, ada.ID, change)
	require.NoError(t, err)
	jobs := servicetest.EmailJobs(t, pool)
	require.Len(t, jobs, 2)
	require.Equal(t, service.EmailArgs{Type: service.EmailEmailChanged, To: "ada@example.com", Name: "Ada", NewEmail: "ada.king@example.com"}, jobs[1])
}
