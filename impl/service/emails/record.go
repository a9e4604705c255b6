package emails

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/junction-dev/junction/gen/db"
)

// recorder writes delivery records in batches: the records of emails sent together share one statement and one
// transaction (group commit), where each was its own statement and commit, and each caller still returns only
// once its record is committed. None waits for a batch to fill: a record that arrives while no batch is being
// written starts one at once, and those that arrive meanwhile make the next. A batch lives only as long as the
// callers waiting for it, so there is nothing to start or stop: a worker that is stopping waits for its record.
type recorder struct {
	write func(ctx context.Context, batch []*record) error

	mu      sync.Mutex
	pending []*record
	busy    bool
}

// record is one delivery waiting to be written, and where its outcome goes.
type record struct {
	// ctx is the job's, without its cancellation: a batch's statement runs in the context (and so the trace) of
	// the record that heads it.
	ctx       context.Context
	jobID     int64
	messageID string
	done      chan error
}

const (
	// recordBatchMax bounds a batch: a queue's workers (EMAIL_CONCURRENCY) send at most that many at once, and
	// a failure sends its batch back one record at a time.
	recordBatchMax = 200
	// recordTimeout bounds the writing of one batch.
	recordTimeout = 30 * time.Second
)

// add queues the record of jobID's message and waits until it is written, or fails. ctx ends the wait, not the
// write: the record may still be written, which a later attempt of the job then finds.
func (r *recorder) add(ctx context.Context, jobID int64, messageID string) error {
	rec := &record{ctx: context.WithoutCancel(ctx), jobID: jobID, messageID: messageID, done: make(chan error, 1)}
	r.mu.Lock()
	r.pending = append(r.pending, rec)
	start := !r.busy
	r.busy = true
	r.mu.Unlock()
	if start {
		go r.drain()
	}
	select {
	case err := <-rec.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain writes batches until none is pending.
func (r *recorder) drain() {
	for {
		r.mu.Lock()
		n := min(len(r.pending), recordBatchMax)
		if n == 0 {
			r.busy = false
			r.mu.Unlock()
			return
		}
		batch := append([]*record(nil), r.pending[:n]...)
		r.pending = append(r.pending[:0], r.pending[n:]...)
		r.mu.Unlock()
		r.flush(batch)
	}
}

// flush writes batch. Should it fail, each record is written alone, so that one that cannot be (its job gone) or
// a failure of the moment fails only its own caller.
func (r *recorder) flush(batch []*record) {
	ctx, cancel := context.WithTimeout(batch[0].ctx, recordTimeout)
	defer cancel()
	err := r.write(ctx, batch)
	if err != nil && len(batch) > 1 {
		for _, rec := range batch {
			rec.done <- r.write(ctx, []*record{rec})
		}
		return
	}
	for _, rec := range batch {
		rec.done <- err
	}
}

// writeRecords inserts batch in one statement.
func (s *Service) writeRecords(ctx context.Context, batch []*record) error {
	p := db.EmailDeliveryCreateManyParams{JobIds: make([]int64, len(batch)), MessageIds: make([]string, len(batch))}
	for i, rec := range batch {
		p.JobIds[i], p.MessageIds[i] = rec.jobID, rec.messageID
	}
	if err := s.core.Queries.EmailDeliveryCreateMany(ctx, s.core.DB, p); err != nil {
		return fmt.Errorf("record %d deliveries: %w", len(batch), err)
	}
	return nil
}
