package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/password"
)

var testSecret = []byte("a test secret that is 32 bytes long")

// newTestService is a Service on a fresh database whose jobs are inserted by an insert-only River client.
func newTestService(t *testing.T) (*Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	tokens, err := auth.NewTokens(testSecret, "junction", "junction-api", time.Hour)
	require.NoError(t, err)
	sealer, err := auth.NewSealer(testSecret)
	require.NoError(t, err)
	return New(Deps{
		Pool: pool, Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}),
		Tokens: tokens, Sealer: sealer, Jobs: inserter, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}), pool
}

func emailJobs(t *testing.T, pool *pgxpool.Pool) []EmailArgs {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT args FROM river_job WHERE kind = 'email' ORDER BY id")
	require.NoError(t, err)
	var out []EmailArgs
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var a EmailArgs
		require.NoError(t, json.Unmarshal(raw, &a))
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestJobsCommitAndRollBackWithTheirWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newTestService(t)

	// A write that rolls back after its job was inserted leaves neither.
	boom := errors.New("boom")
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := s.queries.UserCreate(ctx, tx, db.UserCreateParams{Name: "Ada", Email: "ada@example.com", PasswordHash: "x"}); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, EmailArgs{Type: EmailWelcome, To: "ada@example.com", Name: "Ada"}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Empty(t, emailJobs(t, pool))

	// So does a sign-up that fails on the unique email after its insert was tried.
	_, err = s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	_, err = s.CreateUser(ctx, CreateUserInput{Name: "Ada again", Email: "ADA@example.com", Password: "long enough"})
	require.Equal(t, ECONFLICT, ErrorCode(err))

	// The committed sign-up left exactly one job, with the right args.
	require.Equal(t, []EmailArgs{{Type: EmailWelcome, To: "ada@example.com", Name: "Ada"}}, emailJobs(t, pool))
	var queue string
	var maxAttempts int
	require.NoError(t, pool.QueryRow(ctx, "SELECT queue, max_attempts FROM river_job WHERE kind = 'email'").Scan(&queue, &maxAttempts))
	require.Equal(t, EmailQueue, queue)
	require.Equal(t, EmailMaxAttempts, maxAttempts)
}

func TestPasswordResetJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newTestService(t)
	_, err := s.CreateUser(ctx, CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)

	// What a reset request's job does: nothing for an unknown email, a token and its email for a known one.
	require.NoError(t, s.SendPasswordReset(ctx, "nobody@example.com"))
	require.NoError(t, s.SendPasswordReset(ctx, "ADA@example.com"))
	jobs := emailJobs(t, pool)
	require.Len(t, jobs, 2, "the welcome and one reset; nothing for the unknown email")
	reset := jobs[1]
	require.Equal(t, EmailPasswordReset, reset.Type)
	require.Equal(t, "ada@example.com", reset.To)
	token, err := s.sealer.Open(reset.SealedToken)
	require.NoError(t, err, "the job carries the token sealed")
	require.Len(t, token, 43)
	require.NotContains(t, reset.SealedToken, token)

	var stored []byte
	require.NoError(t, pool.QueryRow(ctx, "SELECT token_hash FROM password_reset_tokens").Scan(&stored))
	require.Equal(t, hashToken(token), stored, "only the hash is stored")
}
