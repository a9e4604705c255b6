package emails

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// TestRecorderBatches: records made while a batch is being written share the next write, and each caller
// returns only once its own record is written; a batch that fails is written again record by record, so that
// only the record that cannot be written fails its caller.
func TestRecorderBatches(t *testing.T) {
	t.Parallel()
	var writes atomic.Int64
	release := make(chan struct{})
	var mu sync.Mutex
	written := map[int64]bool{}
	r := &recorder{write: func(_ context.Context, batch []*record) error {
		if writes.Add(1) == 1 {
			<-release // the first write is slow: the others arrive meanwhile
		}
		for _, rec := range batch {
			if rec.jobID == 13 {
				return errors.New("job 13 is gone")
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rec := range batch {
			written[rec.jobID] = true
		}
		return nil
	}}
	ctx := context.Background()
	first := make(chan error)
	go func() { first <- r.add(ctx, 1, "<1>") }()
	require.Eventually(t, func() bool { return writes.Load() == 1 }, time.Second, time.Millisecond)

	errs := make([]error, 51)
	var wg sync.WaitGroup
	for i := 2; i <= 50; i++ {
		wg.Go(func() { errs[i] = r.add(ctx, int64(i), fmt.Sprintf("<%d>", i)) })
	}
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.pending) == 49
	}, time.Second, time.Millisecond)
	mu.Lock()
	require.Empty(t, written, "nobody returns before the write")
	mu.Unlock()
	close(release)
	require.NoError(t, <-first)
	wg.Wait()
	for i := 2; i <= 50; i++ {
		if i == 13 {
			require.Error(t, errs[i])
			continue
		}
		require.NoError(t, errs[i], "record %d", i)
		require.True(t, written[int64(i)], "record %d", i)
	}
	// The first alone, then the 49 together (which failed), then each of the 49 alone.
	require.Equal(t, int64(1+1+49), writes.Load())
}

// TestRecordDelivery: a recorded delivery is found, whether its records were written together or one of them was
// recorded twice (a retried job whose first record did commit), and it is deleted with its job.
func TestRecordDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	s := New(core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil))))
	var ids []int64
	for range 20 {
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state)
			VALUES ('{}', 'email', 3, 'email', 'running') RETURNING id`).Scan(&id))
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	for _, id := range append(ids, ids[0]) {
		wg.Go(func() { require.NoError(t, s.RecordDelivery(ctx, id, fmt.Sprintf("<email-job-%d@test>", id))) })
	}
	wg.Wait()
	for _, id := range ids {
		sent, err := s.Delivered(ctx, id)
		require.NoError(t, err)
		require.True(t, sent)
	}
	sent, err := s.Delivered(ctx, ids[len(ids)-1]+1)
	require.NoError(t, err)
	require.False(t, sent)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM email_deliveries").Scan(&n))
	require.Equal(t, len(ids), n)

	// The records go with their jobs (River's cleaner deletes finished ones), in a statement or all at once.
	_, err = pool.Exec(ctx, "DELETE FROM river_job WHERE id = ANY($1)", ids[:5])
	require.NoError(t, err)
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM email_deliveries WHERE job_id = ANY($1)", ids[:5]).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM email_deliveries").Scan(&n))
	require.Equal(t, len(ids)-5, n)
	_, err = pool.Exec(ctx, "TRUNCATE river_job")
	require.NoError(t, err)
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM email_deliveries").Scan(&n))
	require.Zero(t, n)
}
