package jobs

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// newDriver is River's driver over pool, whose notifier LISTENs on a connection of listen instead when listen is
// set: pool may go through a transaction pooler, where a LISTEN stays behind on a server connection that other
// clients then use. River holds a session for nothing else (its advisory locks are transactions'), so every other
// statement, job fetches, completions and leader elections included, still goes through pool.
//
// River's poll-only mode would need no session at all, at the price of finding each new job up to a fetch poll
// interval late (1 s by default) and a new leader up to 5 s late; the event listener needs a direct connection
// anyway, so one more per worker process buys jobs that start at once (docs/pgbouncer.md).
func newDriver(pool, listen *pgxpool.Pool) riverdriver.Driver[pgx.Tx] {
	d := riverpgxv5.New(pool)
	if listen == nil || listen == pool {
		return d
	}
	return &listenAside{Driver: d, listen: riverpgxv5.New(listen)}
}

// listenAside is a riverpgxv5 driver whose listener comes from another pool.
type listenAside struct {
	*riverpgxv5.Driver
	listen *riverpgxv5.Driver
}

func (d *listenAside) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return d.listen.GetListener(params)
}
