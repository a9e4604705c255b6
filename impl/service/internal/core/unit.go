package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
)

// Unit is one request made with an Idempotency-Key, carried in its context. The first transaction its services
// open (InTx) takes the key's lock; it then stays open after its work, and every later one of the request joins
// it (as a savepoint), until Finish stores the request's answer in it and commits: a committed write always has
// its answer, and a rolled-back one leaves none.
//
// A keyed write costs the round trips of an unkeyed one: the lock is taken in BEGIN's round trip, and the answer
// is stored in COMMIT's, by a plain INSERT. Nothing is read first: a key that holds an answer already makes the
// store fail, and the request's writes are rolled back and that answer replayed instead (or, when it had expired,
// the request run again).
//
// While a unit holds its connection, its request must not wait for another from the pool: requests each holding
// one and waiting for a second would wait for each other, for ever. So the reads made through [Core.DB] after
// the request's first write (GraphQL's nested fields, read after the mutation) go through the unit's
// transaction, one at a time, and see its writes.
type Unit struct {
	req service.IdempotentRequest

	// use is held by whatever runs on the unit's connection: a transaction of the request (inUnit), a read
	// (unitDB), the store and commit (Finish). mu guards the fields below, briefly; use is taken first.
	use  sync.Mutex
	mu   sync.Mutex
	conn *pgxpool.Conn
	tx   pgx.Tx
	// writing is set while one of the request's transactions runs: a read made meanwhile (from within it, so
	// on its goroutine) goes to the pool, as it did before the unit held a connection, rather than wait for use.
	writing bool
	// refusal is what the first transaction met instead of running: another request holds the key.
	refusal error
	done    bool
}

type unitKey struct{}

// WithUnit returns ctx carrying u, whose transactions InTx then runs in.
func WithUnit(ctx context.Context, u *Unit) context.Context {
	return context.WithValue(ctx, unitKey{}, u)
}

// UnitFrom returns the unit ctx carries, or nil.
func UnitFrom(ctx context.Context) *Unit {
	u, _ := ctx.Value(unitKey{}).(*Unit)
	return u
}

// NewUnit starts the unit of request r.
func NewUnit(r service.IdempotentRequest) *Unit { return &Unit{req: r} }

// errFound stops the work of a request whose key another request holds: a public error, so that whatever the
// caller renders of it is plain, and the transport answers from the unit instead.
var errFound = &service.Error{Code: service.ECONFLICT, Message: "Another request holds this Idempotency-Key."}

// Wrote reports whether the request opened a transaction (and so holds its key's lock until Finish).
func (u *Unit) Wrote() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tx != nil
}

// Request is the keyed request u runs.
func (u *Unit) Request() service.IdempotentRequest { return u.req }

// Refusal is [service.ErrIdempotencyInFlight] when the request's first write found its key held by another
// request, which is running; nil otherwise.
func (u *Unit) Refusal() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.refusal
}

func (c *Core) inUnit(ctx context.Context, u *Unit, fn func(tx pgx.Tx) error) error {
	u.use.Lock()
	defer u.use.Unlock()
	u.mu.Lock()
	switch {
	case u.refusal != nil:
		u.mu.Unlock()
		return errFound
	case u.done:
		u.mu.Unlock()
		return errors.New("idempotent request: a transaction after its answer was stored")
	}
	open := u.tx
	u.writing = true
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.writing = false
		u.mu.Unlock()
	}()
	if open != nil {
		return pgx.BeginFunc(ctx, open, fn)
	}
	conn, err := c.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	tx, err := conn.Conn().BeginTx(ctx, pgx.TxOptions{BeginQuery: beginLocked(u.req, c.StatementTimeout)})
	if err != nil {
		if divisionByZero(err) {
			// The lock is held: another request with the key is running. Leave the connection idle, not in
			// the aborted transaction, so that the pool keeps it.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			conn.Release()
			u.mu.Lock()
			u.refusal = service.ErrIdempotencyInFlight
			u.mu.Unlock()
			return errFound
		}
		conn.Release()
		return fmt.Errorf("tx: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		conn.Release()
		return fmt.Errorf("tx: %w", err)
	}
	u.mu.Lock()
	u.conn, u.tx = conn, tx
	u.mu.Unlock()
	return nil
}

// beginLocked is BEGIN (with the statement timeout) and the key's lock, without waiting, as one simple-protocol
// round trip: 1 / false fails it (division by zero) while another request holds the lock. The lock is a number
// ([service.IdempotentRequest.LockID]), so that no text of the caller's is in the statement. It is the
// transaction's, released by its COMMIT or ROLLBACK, so that it holds through a transaction pooler too: a
// session's lock would stay on a server connection that other clients then use.
func beginLocked(r service.IdempotentRequest, timeout time.Duration) string {
	return postgres.BeginQuery(timeout) + "; SELECT 1 / pg_try_advisory_xact_lock(" + strconv.FormatInt(r.LockID(), 10) + ")::int"
}

func divisionByZero(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22012"
}

// Finish ends u: it stores answer in u's transaction and commits it, in one round trip, or rolls it back when
// answer is nil (the request failed, so its writes go too). When the key holds a live answer of an earlier
// request (which stored it before this one took the lock), this request's writes are rolled back and Finish
// returns that answer, for the caller to replay, or [service.ErrIdempotencyKeyReused] when it answered another
// request. When the key holds an expired answer that the prune job has not deleted yet, the writes are rolled back
// too, that answer is deleted, and Finish returns [service.ErrIdempotencyRunAgain]: the request must run again,
// with a unit of its own. An error means that nothing was committed. A request that wrote nothing stores
// nothing. The commit outlives the request's cancellation (a client that hung up after its write was done),
// within a few seconds.
func (c *Core) Finish(ctx context.Context, u *Unit, answer *service.StoredAnswer, ttl time.Duration) (*service.StoredAnswer, error) {
	u.use.Lock() // after the reads still running on the connection
	defer u.use.Unlock()
	u.mu.Lock()
	tx, conn := u.tx, u.conn
	u.tx, u.conn, u.done = nil, nil, true
	u.mu.Unlock()
	if tx == nil {
		return nil, nil
	}
	defer conn.Release()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if answer == nil {
		return nil, tx.Rollback(ctx)
	}
	headers, err := json.Marshal(answer.Header)
	if err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("store idempotent answer: %w", err)
	}
	r := u.req
	b := &pgx.Batch{}
	b.Queue(db.IdempotencyKeyStore, r.ID(), r.Fingerprint, int32(answer.Status), headers,
		answer.Body, time.Now().Add(ttl))
	b.Queue("COMMIT")
	err = tx.SendBatch(ctx, b).Close()
	if err == nil {
		// Committed; pgx's transaction is left as it is, its connection idle again, which the pool keeps.
		return nil, nil
	}
	// The store failed, and COMMIT did not run: the transaction is aborted.
	_ = tx.Rollback(ctx)
	if !postgres.IsUniqueViolation(err, keysPrimaryKey) {
		return nil, fmt.Errorf("store idempotent answer: %w", err)
	}
	// On this connection, idle again, not another from the pool: every request finishing at once, each holding
	// one and waiting for a second, would wait for each other.
	earlier, err := c.Answer(ctx, conn, r)
	switch {
	case err != nil:
		return nil, err
	case earlier == nil:
		// Expired. Deleted here, outside the key's lock: a request that takes the lock meanwhile runs, and this
		// one, run again, then waits for it (409) or replays its answer.
		if _, err := c.Queries.IdempotencyKeyDeleteExpired(ctx, conn, r.ID()); err != nil {
			return nil, fmt.Errorf("delete expired idempotent answer: %w", err)
		}
		return nil, service.ErrIdempotencyRunAgain
	case earlier.Refusal != nil:
		return nil, earlier.Refusal
	}
	return &earlier.StoredAnswer, nil
}

// keysPrimaryKey is the constraint that a second answer for a key violates.
const keysPrimaryKey = "idempotency_keys_pkey"

// KeyAnswer is what a key's store says of a request: its stored answer, or, when the key answered another
// request, Refusal ([service.ErrIdempotencyKeyReused]).
type KeyAnswer struct {
	service.StoredAnswer
	Refusal error
}

// Answer returns what the store holds for r's key, unexpired, or nil when nothing.
func (c *Core) Answer(ctx context.Context, conn db.DBTX, r service.IdempotentRequest) (*KeyAnswer, error) {
	row, err := c.Queries.IdempotencyKeyGet(ctx, conn, r.ID())
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	if !bytes.Equal(row.Fingerprint, r.Fingerprint) {
		return &KeyAnswer{Refusal: service.ErrIdempotencyKeyReused}, nil
	}
	a := &KeyAnswer{StoredAnswer: service.StoredAnswer{Status: int(row.Status), Body: row.Body}}
	if err := json.Unmarshal(row.Headers, &a.Header); err != nil {
		return nil, fmt.Errorf("read idempotent answer: %w", err)
	}
	return a, nil
}
