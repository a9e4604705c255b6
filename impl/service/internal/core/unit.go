package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/service"
)

// Unit is one request made with an Idempotency-Key, carried in its context. The first transaction its services
// open (InTx) takes the key's lock and checks for a stored answer; it then stays open after its work, and every
// later one of the request joins it (as a savepoint), until Finish stores the request's answer in it and commits:
// a committed write always has its answer, and a rolled-back one leaves none.
type Unit struct {
	req service.IdempotentRequest

	mu sync.Mutex
	tx pgx.Tx
	// found is what the first transaction met instead of running: a stored answer to replay, or a refusal.
	replay  *service.StoredAnswer
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

// errFound stops the work of a request whose key turned out, once locked, to have an answer or a refusal (the
// unit holds which): a public error, so that whatever the caller renders of it is plain, and the transport
// answers from the unit instead.
var errFound = &service.Error{Code: service.ECONFLICT, Message: "This request was answered already."}

// Found returns what the request's first transaction met instead of running: the stored answer to replay, or a
// refusal ([service.ErrIdempotencyInFlight], [service.ErrIdempotencyKeyReused]); neither when it ran.
func (u *Unit) Found() (*service.StoredAnswer, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.replay, u.refusal
}

func (c *Core) inUnit(ctx context.Context, u *Unit, fn func(tx pgx.Tx) error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.replay != nil || u.refusal != nil:
		return errFound
	case u.tx != nil:
		return pgx.BeginFunc(ctx, u.tx, fn)
	case u.done:
		return errors.New("idempotent request: a transaction after its answer was stored")
	}
	tx, err := c.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	found, err := c.lockKey(ctx, tx, u)
	if err == nil && !found {
		err = fn(tx)
	}
	if err != nil || found {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		if found {
			return errFound
		}
		return fmt.Errorf("tx: %w", err)
	}
	u.tx = tx
	return nil
}

// lockKey takes u's key lock in tx and looks for its stored answer (which another request may have committed
// since the caller's first look), in one statement; found says that u now holds a replay or a refusal.
func (c *Core) lockKey(ctx context.Context, tx pgx.Tx, u *Unit) (found bool, err error) {
	r := u.req
	row, err := c.Queries.IdempotencyKeyLock(ctx, tx, db.IdempotencyKeyLockParams{
		LockKey: lockKey(r), Scope: r.Scope, Key: r.Key, Method: r.Method, Route: r.Route,
	})
	if err != nil {
		return false, fmt.Errorf("lock idempotency key: %w", err)
	}
	if !row.Locked {
		u.refusal = service.ErrIdempotencyInFlight
		return true, nil
	}
	if row.Status == nil {
		return false, nil
	}
	answer, err := keyAnswer(r, row.Fingerprint, *row.Status, row.Headers, row.Body)
	if err != nil {
		return false, err
	}
	if answer.Refusal != nil {
		u.refusal = answer.Refusal
	} else {
		u.replay = &answer.StoredAnswer
	}
	return true, nil
}

// Finish ends u: it stores answer in u's transaction and commits it, or rolls it back when answer is nil (the
// request failed, so its writes go too). A request that wrote nothing stores nothing. The commit outlives the
// request's cancellation (a client that hung up after its write was done), within a few seconds.
func (c *Core) Finish(ctx context.Context, u *Unit, answer *service.StoredAnswer, ttl time.Duration) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	tx := u.tx
	u.tx, u.done = nil, true
	if tx == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if answer == nil {
		return tx.Rollback(ctx)
	}
	headers, err := json.Marshal(answer.Header)
	if err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	r := u.req
	if err := c.Queries.IdempotencyKeyStore(ctx, tx, db.IdempotencyKeyStoreParams{
		Scope: r.Scope, Key: r.Key, Method: r.Method, Route: r.Route, Fingerprint: r.Fingerprint,
		Status: int32(answer.Status), Headers: headers, Body: answer.Body, ExpiresAt: time.Now().Add(ttl),
	}); err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit idempotent request: %w", err)
	}
	return nil
}

// KeyAnswer is what a key's store says of a request: its stored answer, or, when the key answered another
// request, Refusal ([service.ErrIdempotencyKeyReused]).
type KeyAnswer struct {
	service.StoredAnswer
	Refusal error
}

// Answer returns what the store holds for r's key, unexpired, or nil when nothing.
func (c *Core) Answer(ctx context.Context, conn db.DBTX, r service.IdempotentRequest) (*KeyAnswer, error) {
	row, err := c.Queries.IdempotencyKeyGet(ctx, conn, db.IdempotencyKeyGetParams{Scope: r.Scope, Key: r.Key, Method: r.Method, Route: r.Route})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	return keyAnswer(r, row.Fingerprint, row.Status, row.Headers, row.Body)
}

// keyAnswer is what a stored row says of request r.
func keyAnswer(r service.IdempotentRequest, fingerprint []byte, status int32, headers, body []byte) (*KeyAnswer, error) {
	if !bytes.Equal(fingerprint, r.Fingerprint) {
		return &KeyAnswer{Refusal: service.ErrIdempotencyKeyReused}, nil
	}
	a := &KeyAnswer{StoredAnswer: service.StoredAnswer{Status: int(status), Body: body}}
	if err := json.Unmarshal(headers, &a.Header); err != nil {
		return nil, fmt.Errorf("read idempotent answer: %w", err)
	}
	return a, nil
}

// lockKey is the advisory lock's text for r's key: everything that tells keys apart.
func lockKey(r service.IdempotentRequest) string {
	return r.Scope + " " + r.Method + " " + r.Route + " " + r.Key // none holds a space
}
