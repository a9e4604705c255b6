package billing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/service"
)

// intake stores webhook deliveries in batches: deliveries that arrive together share one transaction, one
// statement for the events, one for their jobs and one WAL flush (group commit), each still stored once and with
// its job. None waits for a batch to fill: a delivery that arrives while no batch is being written starts one at
// once, and those that arrive meanwhile make the next.
//
// It takes deliveries only between start and stop: stop closes it, and waits for the batches already taken, so
// that a process that is shutting down answers every delivery it took (stored, or refused with a retry).
type intake struct {
	store func(ctx context.Context, batch []*delivery) error

	mu      sync.Mutex
	open    bool
	pending []*delivery
	busy    bool
	// idle is closed when no batch is being written; drain replaces it while one is.
	idle chan struct{}
}

func newIntake(store func(ctx context.Context, batch []*delivery) error) *intake {
	idle := make(chan struct{})
	close(idle)
	return &intake{store: store, idle: idle}
}

// start opens the intake.
func (in *intake) start() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.open = true
	return nil
}

// stop closes the intake and waits until the deliveries it took are stored, or ctx ends.
func (in *intake) stop(ctx context.Context) error {
	in.mu.Lock()
	in.open = false
	idle := in.idle
	in.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook intake: %w", ctx.Err())
	}
}

// delivery is one verified event waiting to be stored.
type delivery struct {
	ctx     context.Context // the request's: a delivery whose sender gave up is not written
	ev      stripeEvent
	payload []byte
	done    chan error
}

const (
	// intakeBatchMax bounds a batch: its statements stay small, and so does what one failure sends back.
	intakeBatchMax = 100
	// intakeQueueMax bounds the deliveries waiting while the database is slow or away; beyond it a delivery is
	// refused at once (503: the sender retries) rather than held.
	intakeQueueMax = 10_000
	// intakeTimeout bounds the writing of one batch.
	intakeTimeout = 30 * time.Second
)

// submit queues d and waits until it is stored, or refused, or the request ends.
func (in *intake) submit(d *delivery) error {
	in.mu.Lock()
	if !in.open || len(in.pending) >= intakeQueueMax {
		in.mu.Unlock()
		return service.Unavailable()
	}
	in.pending = append(in.pending, d)
	start := !in.busy
	if start {
		in.busy = true
		in.idle = make(chan struct{})
	}
	in.mu.Unlock()
	if start {
		go in.drain()
	}
	select {
	case err := <-d.done:
		return err
	case <-d.ctx.Done():
		// It may still be stored: the sender's retry will then be a repeat, stored once.
		return d.ctx.Err()
	}
}

// drain writes batches until none is pending.
func (in *intake) drain() {
	for {
		in.mu.Lock()
		n := min(len(in.pending), intakeBatchMax)
		if n == 0 {
			in.busy = false
			close(in.idle)
			in.mu.Unlock()
			return
		}
		batch := make([]*delivery, 0, n)
		for _, d := range in.pending[:n] {
			if d.ctx.Err() == nil {
				batch = append(batch, d)
			}
		}
		in.pending = append(in.pending[:0], in.pending[n:]...)
		in.mu.Unlock()
		if len(batch) > 0 {
			in.write(batch)
		}
	}
}

// write stores batch. Should it fail, each delivery is stored alone, so that one that cannot be stored (or a
// failure of the moment) is answered for itself and does not fail the others.
func (in *intake) write(batch []*delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), intakeTimeout)
	defer cancel()
	err := in.store(ctx, batch)
	if err != nil && len(batch) > 1 {
		for _, d := range batch {
			d.done <- in.store(ctx, []*delivery{d})
		}
		return
	}
	for _, d := range batch {
		d.done <- err
	}
}

// storeDeliveries stores a batch of events, each once, and queues the processing of those that are new, in one
// transaction.
func (s *Service) storeDeliveries(ctx context.Context, batch []*delivery) error {
	p := db.WebhookEventInsertManyParams{
		Providers: make([]string, len(batch)), EventIds: make([]string, len(batch)), Types: make([]string, len(batch)),
		Payloads: make([][]byte, len(batch)), CreatedAts: make([]time.Time, len(batch)),
	}
	for i, d := range batch {
		p.Providers[i], p.EventIds[i], p.Types[i] = string(service.ProviderStripe), d.ev.ID, d.ev.Type
		p.Payloads[i], p.CreatedAts[i] = d.payload, time.Unix(d.ev.Created, 0)
	}
	err := s.core.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := s.core.Queries.WebhookEventInsertMany(ctx, tx, p)
		if err != nil || len(rows) == 0 {
			return err
		}
		jobs := make([]river.InsertManyParams, len(rows))
		for i, r := range rows {
			jobs[i] = river.InsertManyParams{Args: service.ProcessWebhookArgs{EventID: r.ID}}
		}
		return s.core.EnqueueMany(ctx, tx, jobs)
	})
	var pgErr *pgconn.PgError
	if len(batch) == 1 && errors.As(err, &pgErr) && (pgErr.Code == "22P05" || pgErr.Code == "22P02") {
		// JSON that Go accepts and PostgreSQL's jsonb does not (a \u0000 in a string): no retry can store it.
		return &service.Error{Code: service.EINVALID, Message: "The event cannot be stored: its JSON holds text PostgreSQL cannot keep.",
			Fields: map[string][]string{"body": {"holds an unsupported Unicode escape"}}}
	}
	if err != nil {
		return fmt.Errorf("store webhook deliveries: %w", err)
	}
	return nil
}
