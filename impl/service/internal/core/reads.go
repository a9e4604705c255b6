package core

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/gen/db"
)

// unitDB is what the services read through ([Core.DB]): the pool, except in a keyed request whose transaction
// is open, which holds a connection until its answer is stored. Its reads go through that transaction, one at a
// time, rather than wait for a second connection: as many such requests as the pool has connections, each
// waiting for another, would wait for ever, and every request of the instance with them.
type unitDB struct{ pool *pgxpool.Pool }

// on returns what a read of ctx runs on, and what ends it (nil for the pool).
func (d unitDB) on(ctx context.Context) (db.DBTX, func()) {
	u := UnitFrom(ctx)
	if u == nil || u.readableTx() == nil {
		return d.pool, nil
	}
	u.use.Lock()
	tx := u.readableTx() // again: its answer may have been stored meanwhile, or a transaction of the request begun
	if tx == nil {
		u.use.Unlock()
		return d.pool, nil
	}
	return tx, u.use.Unlock
}

// readableTx is u's transaction while it is open and no transaction of the request runs (a read from within one
// goes to the pool, on the goroutine that holds use); nil otherwise.
func (u *Unit) readableTx() pgx.Tx {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.tx == nil || u.done || u.writing {
		return nil
	}
	return u.tx
}

func (d unitDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	on, done := d.on(ctx)
	if done != nil {
		defer done()
	}
	return on.Exec(ctx, sql, args...)
}

func (d unitDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	on, done := d.on(ctx)
	rows, err := on.Query(ctx, sql, args...)
	if done == nil {
		return rows, err
	}
	if err != nil {
		done()
		return nil, err
	}
	return &unitRows{Rows: rows, done: sync.OnceFunc(done)}, nil
}

func (d unitDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := d.Query(ctx, sql, args...)
	return unitRow{rows: rows, err: err}
}

// unitRows are a read's rows on a unit's transaction, which the connection is free of again once they close (as
// they do when read to the end).
type unitRows struct {
	pgx.Rows
	done func()
}

func (r *unitRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.done()
	return false
}

func (r *unitRows) Close() {
	r.Rows.Close()
	r.done()
}

// unitRow is QueryRow's answer, as pgx's: the first row, pgx.ErrNoRows without one.
type unitRow struct {
	rows pgx.Rows
	err  error
}

func (r unitRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
