package accounts_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/servicetest"
)

func TestPasswordResetJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	sealer, err := auth.NewSealer([]byte(servicetest.Secret))
	require.NoError(t, err)
	s := servicetest.New(t, pool, servicetest.Options{Sealer: sealer})
	_, err = s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)

	// What a reset request's job does: nothing for an unknown email, a token and its email for a known one.
	require.NoError(t, s.Accounts.SendPasswordReset(ctx, "nobody@example.com"))
	require.NoError(t, s.Accounts.SendPasswordReset(ctx, "ADA@example.com"))
	jobs := servicetest.EmailJobs(t, pool)
	require.Len(t, jobs, 2, "the welcome and one reset; nothing for the unknown email")
	reset := jobs[1]
	require.Equal(t, service.EmailPasswordReset, reset.Type)
	require.Equal(t, "ada@example.com", reset.To)
	token, err := sealer.Open(reset.SealedToken)
	require.NoError(t, err, "the job carries the token sealed")
	require.Len(t, token, 43)
	require.NotContains(t, reset.SealedToken, token)

	var stored []byte
	require.NoError(t, pool.QueryRow(ctx, "SELECT token_hash FROM password_reset_tokens").Scan(&stored))
	sum := sha256.Sum256([]byte(token))
	require.Equal(t, sum[:], stored, "only the hash is stored")
}

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
	s := servicetest.New(t, pool, servicetest.Options{})
	_, err = s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "DELETE FROM river_job") // the welcome
	require.NoError(t, err)

	// Warm both paths first (prepared statements are per connection), then record each once.
	require.NoError(t, s.Accounts.RequestPasswordReset(ctx, "warm@example.com"))
	rec.take()
	require.NoError(t, s.Accounts.RequestPasswordReset(ctx, "ada@example.com"))
	known := rec.take()
	require.NoError(t, s.Accounts.RequestPasswordReset(ctx, "nobody@example.com"))
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
		require.Equal(t, service.PasswordResetArgs{}.Kind(), kind, "one job per request, of one kind")
		var a service.PasswordResetArgs
		require.NoError(t, json.Unmarshal(raw, &a))
		emails = append(emails, a.Email)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"warm@example.com", "ada@example.com", "nobody@example.com"}, emails)
}

// TestRecheck: a session opened with Authenticate's service.Actor stands until its token expires, its user is deleted,
// a password reset voids its token (service.EUNAUTHORIZED), or its user's role changes (service.EFORBIDDEN).
func TestRecheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, pool *pgxpool.Pool, a *service.Actor)
		want   service.Code // "" for a session that stands
	}{
		{name: "unchanged"},
		{name: "expired", want: service.EUNAUTHORIZED, change: func(t *testing.T, _ *pgxpool.Pool, a *service.Actor) {
			a.TokenExpiresAt = time.Now().Add(-time.Second)
		}},
		{name: "deleted", want: service.EUNAUTHORIZED, change: func(t *testing.T, pool *pgxpool.Pool, a *service.Actor) {
			_, err := pool.Exec(context.Background(), "DELETE FROM users WHERE id = $1", a.UserID)
			require.NoError(t, err)
		}},
		{name: "password reset after the token", want: service.EUNAUTHORIZED, change: func(t *testing.T, pool *pgxpool.Pool, a *service.Actor) {
			_, err := pool.Exec(context.Background(), "UPDATE users SET password_changed_at = now() + interval '2 seconds' WHERE id = $1", a.UserID)
			require.NoError(t, err)
		}},
		{name: "password reset in the token's second", change: func(t *testing.T, pool *pgxpool.Pool, a *service.Actor) {
			_, err := pool.Exec(context.Background(), "UPDATE users SET password_changed_at = $2 WHERE id = $1", a.UserID, a.TokenIssuedAt.Add(500*time.Millisecond))
			require.NoError(t, err)
		}},
		{name: "role changed", want: service.EFORBIDDEN, change: func(t *testing.T, pool *pgxpool.Pool, a *service.Actor) {
			_, err := pool.Exec(context.Background(), "UPDATE users SET role = 'admin' WHERE id = $1", a.UserID)
			require.NoError(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := dbtest.New(t)
			tokens, err := auth.NewTokens([]byte(servicetest.Secret), "junction", "junction-api", time.Hour)
			require.NoError(t, err)
			s := servicetest.New(t, pool, servicetest.Options{Tokens: tokens})
			ctx := context.Background()
			u, err := s.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
			require.NoError(t, err)
			token, err := tokens.Issue(u.ID.String())
			require.NoError(t, err)
			a, err := s.Accounts.Authenticate(ctx, token)
			require.NoError(t, err)
			require.WithinDuration(t, time.Now().Add(time.Hour), a.TokenExpiresAt, 2*time.Second, "the service.Actor knows its token's expiry")
			require.WithinDuration(t, time.Now(), a.TokenIssuedAt, 2*time.Second)
			if tt.change != nil {
				tt.change(t, pool, &a)
			}
			err = s.Accounts.Recheck(ctx, a)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tt.want, service.ErrorCode(err), "%v", err)
		})
	}
}
