package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/mailtest"
	"github.com/junction-dev/junction/impl/service"
)

// TestCrashLosesNoJob kills a real `junction worker` with SIGKILL while 1,000 email jobs are queued or running.
// After a restart every job completes; no job is lost; a job that had completed, or whose email had been recorded
// as delivered, is never sent again; only jobs caught mid-send may be sent twice (at least once, same Message-ID).
func TestCrashLosesNoJob(t *testing.T) {
	t.Parallel()
	const total = 1000
	ctx := context.Background()
	bin := buildJunction(t)
	smtp := mailtest.Start(t)
	smtp.Delay(30 * time.Millisecond) // so that jobs are mid-send when the process dies
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	logger, _ := logtest.New()
	inserter, err := jobs.NewClient(pool, jobs.Config{Logger: logger})
	require.NoError(t, err)
	params := make([]river.InsertManyParams, total)
	for i := range params {
		params[i] = river.InsertManyParams{Args: service.EmailArgs{Type: "welcome", To: fmt.Sprintf("u%d@example.com", i), Name: fmt.Sprintf("U%d", i)}}
	}
	_, err = inserter.InsertMany(ctx, params)
	require.NoError(t, err)

	worker := func() (*exec.Cmd, *logtest.Buffer) {
		cmd := exec.Command(bin, "worker")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SMTP_URL="+smtp.URL(),
			"JWT_SECRET=a crash test secret that is 32 bytes", "MAIL_FROM=Junction <no-reply@junction.test>", "LOG_LEVEL=warn", "EMAIL_CONCURRENCY=10",
			// A job running for longer than this after the crash is stuck: River's rescuer returns it to the
			// queue when the restarted process becomes the leader (the dead leader's term expires first).
			"JOB_TIMEOUT=2s", "JOB_RESCUE_STUCK_AFTER=3s", "EMAIL_RETRY_BASE=100ms")
		logs := &logtest.Buffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, logs
	}

	first, _ := worker()
	smtp.WaitAccepted(t, 300, 60*time.Second)
	require.NoError(t, first.Process.Kill()) // SIGKILL: no shutdown, no resignation, no completion flush
	_ = first.Wait()

	// What the database says at the moment of the crash.
	byState := map[string]int{}
	rows, err := pool.Query(ctx, "SELECT state::text, count(*) FROM river_job GROUP BY 1")
	require.NoError(t, err)
	for rows.Next() {
		var state string
		var n int
		require.NoError(t, rows.Scan(&state, &n))
		byState[state] = n
	}
	require.NoError(t, rows.Err())
	completedBefore := ids(t, pool, "SELECT id FROM river_job WHERE state = 'completed'")
	deliveredBefore := ids(t, pool, "SELECT job_id FROM email_deliveries")
	runningButDelivered := ids(t, pool,
		"SELECT j.id FROM river_job j JOIN email_deliveries d ON d.job_id = j.id WHERE j.state = 'running'")
	t.Logf("at the crash: %v jobs by state; %d emails recorded as delivered, %d of them by jobs still marked running",
		byState, len(deliveredBefore), len(runningButDelivered))
	require.Positive(t, byState["running"], "the crash caught jobs running")
	require.Positive(t, byState["available"], "and jobs queued")

	second, logs := worker()
	require.Eventually(t, func() bool {
		var completed int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&completed)
		return err == nil && completed == total
	}, 90*time.Second, 200*time.Millisecond, "every job completes after the restart\n%s", logs.String())
	_ = second

	sends := map[string]int{}
	for _, m := range smtp.All() {
		if m.Accepted {
			sends[m.Header.Get("Message-Id")]++
		}
	}
	all := ids(t, pool, "SELECT id FROM river_job")
	require.Len(t, all, total)
	var twice []int64
	for _, id := range all {
		n := sends[fmt.Sprintf("<email-job-%d@junction.test>", id)]
		require.Positive(t, n, "job %d's email was sent", id)
		if n > 1 {
			twice = append(twice, id)
		}
	}
	for _, id := range append(completedBefore, deliveredBefore...) {
		require.Equal(t, 1, sends[fmt.Sprintf("<email-job-%d@junction.test>", id)], "job %d had completed or delivered before the crash", id)
	}
	require.LessOrEqual(t, len(twice), byState["running"], "only jobs caught mid-send are sent twice")
	var recorded int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM email_deliveries").Scan(&recorded))
	require.Equal(t, total, recorded)
	t.Logf("after the restart: %d jobs completed, %d emails sent twice (caught mid-send)", total, len(twice))
}

func ids(t *testing.T, pool *pgxpool.Pool, query string) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), query)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return out
}
