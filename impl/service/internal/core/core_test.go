package core_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/servicetest"
)

func TestJobsCommitAndRollBackWithTheirWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	c := core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := servicetest.New(t, pool, servicetest.Options{Jobs: inserter})

	// A write that rolls back after its job was inserted leaves neither.
	boom := errors.New("boom")
	err = c.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := c.Queries.UserCreate(ctx, tx, db.UserCreateParams{Name: "Ada", Email: "ada@example.com", PasswordHash: "x"}); err != nil {
			return err
		}
		if err := c.Enqueue(ctx, tx, service.EmailArgs{Type: service.EmailWelcome, To: "ada@example.com", Name: "Ada"}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Empty(t, servicetest.EmailJobs(t, pool))

	// So does a sign-up that fails on the unique email after its insert was tried.
	_, err = s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	_, err = s.Users.Create(ctx, service.CreateUserInput{Name: "Ada again", Email: "ADA@example.com", Password: "long enough"})
	require.Equal(t, service.ECONFLICT, service.ErrorCode(err))

	// The committed sign-up left exactly one job, with the right args.
	require.Equal(t, []service.EmailArgs{{Type: service.EmailWelcome, To: "ada@example.com", Name: "Ada"}}, servicetest.EmailJobs(t, pool))
	var queue string
	var maxAttempts int
	require.NoError(t, pool.QueryRow(ctx, "SELECT queue, max_attempts FROM river_job WHERE kind = 'email'").Scan(&queue, &maxAttempts))
	require.Equal(t, service.EmailQueue, queue)
	require.Equal(t, service.EmailMaxAttempts, maxAttempts)
}

// TestUserUpdateRefusesAStaleCheck: the update applies only while the row holds the email and hash the current
// password was checked against, so a change that lands between the check and the write is not overwritten.
func TestUserUpdateRefusesAStaleCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := servicetest.New(t, pool, servicetest.Options{})
	queries := db.New()
	ada, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	cur, err := queries.UserGetByID(ctx, pool, ada.ID)
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
			_, err := queries.UserUpdate(ctx, pool, db.UserUpdateParams{
				ID: ada.ID, Name: new("Ada " + tt.name), SeenEmail: tt.email, SeenPasswordHash: tt.hash,
			})
			if tt.applies {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, pgx.ErrNoRows)
			}
		})
	}
	got, err := queries.UserGetByID(ctx, pool, ada.ID)
	require.NoError(t, err)
	require.Equal(t, "Ada as read", got.Name, "only the fresh check wrote")
}
