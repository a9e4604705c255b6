package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what a statement runs on: a pool, a connection or a transaction (the method set of sqlc's DBTX, so that
// this package needs none of the generated queries).
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CustomPlans runs statements on db as unnamed prepared statements, which PostgreSQL plans for the values given,
// every time. The list queries need that: their filters are optional ("$1 IS NULL OR col = $1"), and a cached
// generic plan can neither drop the unused ones nor judge how selective a search term is, so it may walk the
// wrong index. Every other statement keeps pgx's named, cached statements, whose generic plans PostgreSQL adopts
// after a few runs and then never re-plans (a lookup by primary key costs about a third less that way). It is one
// round trip either way: pgx caches the statement's description. Through a transaction pooler every statement runs
// unnamed anyway (Connect with TransactionPooling), and this changes nothing.
func CustomPlans(db DBTX) DBTX { return customPlans{db: db} }

type customPlans struct{ db DBTX }

func (c customPlans) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.db.Exec(ctx, sql, withMode(args)...)
}

func (c customPlans) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.db.Query(ctx, sql, withMode(args)...)
}

func (c customPlans) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.db.QueryRow(ctx, sql, withMode(args)...)
}

func withMode(args []any) []any {
	return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
}
