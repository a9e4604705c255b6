package wire_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/servicetest"
)

// BenchmarkThroughPgBouncer measures the by-id read (GET /api/users/{id}'s service call) and a write (a published
// post: its row, its NOTIFY and its outbox check in one transaction) with the pools the service opens, directly
// (named prepared statements, the timeout a startup parameter), directly with the pool it opens for a
// transaction pooler (unnamed statements, the timeout per transaction), and through the tests' PgBouncer with that
// pool, on the same database, four connections each (PgBouncer's pool: four server connections), one after the
// other for each operation; on a shared machine compare only the figures of one run:
//
//	go test -run '^$' -bench ThroughPgBouncer ./impl/service/wire
func BenchmarkThroughPgBouncer(b *testing.B) {
	direct := dbtest.NewURL(b)
	through := dbtest.ThroughPgBouncer(b, direct)
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	cfg := config.DBConfig{
		MaxConns: 4, MinConns: 4, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour,
		ConnectTimeout: 5 * time.Second, WaitTimeout: 10 * time.Second, StatementTimeout: 10 * time.Second,
	}
	open := func(url string, pooled bool) *pgxpool.Pool {
		c := cfg
		c.TransactionPooling = pooled
		pool, err := postgres.Connect(ctx, url, c, logger)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return pool
	}
	session := open(direct, false)
	type target struct {
		name string
		svc  *wire.Services
		ctx  context.Context
		user uuid.UUID
	}
	var targets []target
	for _, t := range []struct {
		name string
		pool *pgxpool.Pool
	}{
		{"direct", session},
		// Direct too, but with the pool a transaction pooler gets: what unnamed statements cost, without the hop.
		{"direct-unnamed", open(direct, true)},
		{"pgbouncer", open(through, true)},
		{"pgbouncer-exec", open(through+"&default_query_exec_mode=exec", true)},
		{"pgbouncer-simple", open(through+"&default_query_exec_mode=simple_protocol", true)},
	} {
		svc := servicetest.New(b, t.pool, servicetest.Options{Session: session, StatementTimeout: cfg.StatementTimeout, Logger: logger})
		u, err := svc.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: t.name + "@example.com", Password: "long enough"})
		if err != nil {
			b.Fatal(err)
		}
		actx := service.NewContextWithActor(ctx, service.Actor{UserID: u.ID, Role: service.RoleUser})
		targets = append(targets, target{name: t.name, svc: svc, ctx: actx, user: u.ID})
	}
	ops := []struct {
		name string
		do   func(t target) error
	}{
		{"read", func(t target) error { _, err := t.svc.Users.Get(t.ctx, t.user); return err }},
		{"write", func(t target) error {
			_, err := t.svc.Posts.Create(t.ctx, service.CreatePostInput{Title: "T", Content: "C", Published: true})
			return err
		}},
	}
	for _, op := range ops {
		for _, t := range targets { // each pair back to back, so that the machine's load is alike for both
			b.Run(op.name+"/"+t.name, func(b *testing.B) {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := op.do(t); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
