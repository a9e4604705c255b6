package jobs

import (
	"context"

	"github.com/riverqueue/river"
)

// pruneWorker is a periodic job that deletes what has outlived its time, through prune: events past their
// retention with their deliveries (webhook_prune), expired idempotency keys (idempotency_prune).
type pruneWorker[A river.JobArgs] struct {
	river.WorkerDefaults[A]
	prune func(context.Context) (int64, error)
}

// Work prunes.
func (w *pruneWorker[A]) Work(ctx context.Context, _ *river.Job[A]) error {
	_, err := w.prune(ctx)
	return err
}
