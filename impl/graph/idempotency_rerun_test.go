package graph_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
)

// TestARerunIsCountedOnce: a keyed mutation whose key held an expired answer runs again, inside one request; the
// rate limit counts that request once, as REST's does, not once a run. With a sign-up quota of two, the second
// sign-up, run twice, must still be allowed.
func TestARerunIsCountedOnce(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.SignUp = 2
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	signUp := func(email string) string {
		return `mutation { createUser(input: {name: "Ada", email: "` + email + `", password: "long enough"}) { email } }`
	}
	status, _, body := in.keyed(t, "", "rerun-1", signUp("ada@example.com"))
	require.Equal(t, http.StatusOK, status, body)
	_, err := in.pool.Exec(context.Background(), "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
	require.NoError(t, err)

	status, replayed, body := in.keyed(t, "", "rerun-1", signUp("grace@example.com"))
	require.Equal(t, http.StatusOK, status, body)
	require.Empty(t, replayed)
	require.Contains(t, body, `"email":"grace@example.com"`, "run again, not refused by its own first run")
	var users, welcomes int
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&users))
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE args->>'type' = 'welcome'").Scan(&welcomes))
	require.Equal(t, 2, users)
	require.Equal(t, 2, welcomes, "the first run's welcome went with its rollback")
}
