package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/service"
)

// TestJobsThroughPgBouncer: River works through PgBouncer in transaction pooling mode, its statements (fetches,
// completions, leader elections) through the pooler, its LISTEN on a direct connection of its own, taken from the
// session pool: a job inserted in a write's transaction is worked and its email sent.
func TestJobsThroughPgBouncer(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{throughPgBouncer: true})
	require.Eventually(t, func() bool { return b.session.Stat().NewConnsCount() > 0 }, 10*time.Second, 10*time.Millisecond,
		"River's notifier connects through the session pool")
	_, err := b.svc.Users.Create(context.Background(), service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	got := b.smtp.WaitAccepted(t, 1, 20*time.Second)
	require.Equal(t, "Welcome to Junction, Ada", got[0].Header.Get("Subject"))
	require.Equal(t, 1, b.waitJob(t, "completed"))
	require.NotContains(t, b.logs.String(), "prepared statement")
}
