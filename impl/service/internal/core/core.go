// Package core is what every service is built from: the pool, the queries, transactions, job inserts and
// notifications, and the checks and conversions that more than one aggregate shares. It is internal to the
// services: transports see only what the services return.
package core

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
)

// Core is the shared part of every service. It is safe for concurrent use.
type Core struct {
	Pool *pgxpool.Pool
	// DB is what the statements outside a transaction run on: the pool, or the open transaction of the keyed
	// request of their context (see [Unit]). They take it, never Pool.
	DB      db.DBTX
	Queries *db.Queries
	Jobs    service.JobInserter
	// EncodeWebhook renders outgoing webhooks' bodies (impl/apimodel.EncodeWebhook).
	EncodeWebhook service.WebhookEncoder
	Logger        *slog.Logger
	// StatementTimeout bounds each statement of the transactions InTx opens, set in BEGIN's own round trip
	// (postgres.BeginQuery): through a transaction pooler the pool's connections carry no timeout of their own.
	// 0 leaves them the connection's.
	StatementTimeout time.Duration
}

// New returns a Core over pool that inserts jobs through jobs and renders webhooks with encode.
func New(pool *pgxpool.Pool, jobs service.JobInserter, encode service.WebhookEncoder, logger *slog.Logger) *Core {
	return &Core{Pool: pool, DB: unitDB{pool: pool}, Queries: db.New(), Jobs: jobs, EncodeWebhook: encode, Logger: logger}
}

// InTx runs fn in a transaction, committing when it returns nil and rolling back otherwise. Every write goes
// through it so that later steps (job inserts, notifications) join the same commit. In a request made with an
// Idempotency-Key (a [Unit] in ctx) the request's transactions are one, committed with its answer by [Core.Finish].
func (c *Core) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if u := UnitFrom(ctx); u != nil {
		return c.inUnit(ctx, u, fn)
	}
	if err := pgx.BeginTxFunc(ctx, c.Pool, pgx.TxOptions{BeginQuery: postgres.BeginQuery(c.StatementTimeout)}, fn); err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	return nil
}

// Enqueue inserts a job in tx, so that it exists exactly when tx commits.
func (c *Core) Enqueue(ctx context.Context, tx pgx.Tx, args river.JobArgs) error {
	if _, err := c.Jobs.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// EnqueueMany inserts jobs in tx in one statement.
func (c *Core) EnqueueMany(ctx context.Context, tx pgx.Tx, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	if _, err := c.Jobs.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("insert %s jobs: %w", jobs[0].Args.Kind(), err)
	}
	return nil
}

// Notify sends e to every instance's listener when tx commits, and never if it rolls back.
func (c *Core) Notify(ctx context.Context, tx pgx.Tx, e service.Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := c.Queries.EventNotify(ctx, tx, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", e.Kind, err)
	}
	return nil
}

// Publish records m in tx for the endpoints that take it, with the job that fans it out to them (the outbox): it
// is sent exactly when tx commits, at least once, and never if tx rolls back. When no enabled endpoint takes it,
// nothing is kept. Its cost in tx is the same however many endpoints take it.
func (c *Core) Publish(ctx context.Context, tx pgx.Tx, m service.WebhookMessage) error {
	return c.publish(ctx, tx, m, nil)
}

// PublishNotify is Publish and Notify(e) in one statement, for a write that does both.
func (c *Core) PublishNotify(ctx context.Context, tx pgx.Tx, m service.WebhookMessage, e service.Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return c.publish(ctx, tx, m, new(string(payload)))
}

func (c *Core) publish(ctx context.Context, tx pgx.Tx, m service.WebhookMessage, event *string) error {
	if m.At.IsZero() {
		m.At = time.Now()
	}
	body, err := c.EncodeWebhook(m)
	if err != nil {
		return fmt.Errorf("publish %s: %w", m.Type, err)
	}
	id, err := c.Queries.WebhookMessageInsert(ctx, tx, db.WebhookMessageInsertParams{
		Type: string(m.Type), OwnerID: m.OwnerID, Private: m.Private, Payload: body, Event: event,
	})
	if err != nil {
		return fmt.Errorf("publish %s: %w", m.Type, err)
	}
	if id == nil {
		return nil // nobody listens
	}
	return c.Enqueue(ctx, tx, service.WebhookFanOutArgs{MessageID: *id})
}

// RequireUser returns ENOTFOUND when user id does not exist.
func (c *Core) RequireUser(ctx context.Context, id uuid.UUID) error {
	exists, err := c.Queries.UserExists(ctx, c.DB, id)
	if err != nil {
		return fmt.Errorf("check user: %w", err)
	}
	if !exists {
		return NotFound("User")
	}
	return nil
}

// EnqueueAt inserts a job in tx, to run at at.
func (c *Core) EnqueueAt(ctx context.Context, tx pgx.Tx, args river.JobArgs, at time.Time) error {
	if _, err := c.Jobs.InsertTx(ctx, tx, args, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// Prune deletes in batches of batch rows, through del, until a batch comes back short, and returns how many it
// deleted: one long DELETE would hold its locks, and its WAL, for the whole backlog at once.
func Prune(ctx context.Context, batch int32, del func(ctx context.Context, limit int32) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := del(ctx, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}
