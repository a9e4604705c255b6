// Package servicetest builds the business layer for a test as cmd/junction builds it, starts its background
// components in the same order, and stops them in reverse when the test ends: no test has to remember a step.
package servicetest

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/lifecycle"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
)

// Secret is the key the test tokens are signed and the job secrets sealed with.
const Secret = "a test secret that is 32 bytes long"

// FastHash are argon2 parameters cheap enough for tests: they exercise the flow, not the cost.
var FastHash = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Options change what New builds; the zero value is the usual test setup.
type Options struct {
	// Jobs inserts the services' jobs; nil builds an insert-only River client (no job runs).
	Jobs service.JobInserter
	// Session is where the listener connects when the pool goes through a transaction pooler (dbtest's
	// NewThroughPgBouncer); nil is the pool.
	Session *pgxpool.Pool
	// StatementTimeout bounds the statements of the services' transactions; zero leaves them the pool's.
	StatementTimeout time.Duration
	// Hash is the argon2 cost; zero takes FastHash.
	Hash password.Params
	// AuthCacheTTL and ListTotalTTL are the caches' lives; zero turns a cache off.
	AuthCacheTTL time.Duration
	ListTotalTTL time.Duration
	// WebhookTargets is the destination policy of webhook endpoints; the zero value refuses private addresses.
	WebhookTargets outbound.Policy
	// WebhookSchedule is the delays between a delivery's attempts; the zero value retries nothing.
	WebhookSchedule retry.Schedule
	// Now is the services' clock; nil is time.Now.
	Now func() time.Time
	// Tokens and Sealer default to ones keyed with Secret.
	Tokens *auth.Tokens
	Sealer *auth.Sealer
	Logger *slog.Logger
}

// New builds the services over pool and starts their components until t ends.
func New(t testing.TB, pool *pgxpool.Pool, o Options) *wire.Services {
	t.Helper()
	if o.Logger == nil {
		o.Logger, _ = logtest.New()
	}
	var err error
	if o.Tokens == nil {
		if o.Tokens, err = auth.NewTokens([]byte(Secret), "junction", "junction-api", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if o.Sealer == nil {
		if o.Sealer, err = auth.NewSealer([]byte(Secret)); err != nil {
			t.Fatal(err)
		}
	}
	if o.Jobs == nil {
		// Insert-only: River needs no workers to insert, so the business layer's tests need no jobs package.
		if o.Jobs, err = river.NewClient(riverpgxv5.New(pool), &river.Config{}); err != nil {
			t.Fatal(err)
		}
	}
	svcs := wire.New(wire.Deps{
		Pool: pool, Session: o.Session, StatementTimeout: o.StatementTimeout, Jobs: o.Jobs, Hasher: password.NewHasher(cmp.Or(o.Hash, FastHash)),
		Tokens: o.Tokens, Sealer: o.Sealer,
		AuthCacheTTL: o.AuthCacheTTL, ListTotalTTL: o.ListTotalTTL, WebhookTargets: o.WebhookTargets,
		WebhookSchedule: o.WebhookSchedule, Now: o.Now, Logger: o.Logger,
	})
	Start(t, o.Logger, svcs.Components()...)
	// Tests then see every commit heard, and the authentication cache on, from their first step.
	select {
	case <-svcs.Listener.Listening():
	case <-time.After(10 * time.Second):
		t.Fatal("servicetest: the event listener did not connect")
	}
	return svcs
}

// Start starts cs in order and stops them in reverse when t ends.
func Start(t testing.TB, logger *slog.Logger, cs ...lifecycle.Named) {
	t.Helper()
	g := lifecycle.New(logger)
	if err := g.Start(context.Background(), cs...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
}

// EmailJobs returns the args of every email job queued on pool, oldest first.
func EmailJobs(t testing.TB, pool *pgxpool.Pool) []service.EmailArgs {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT args FROM river_job WHERE kind = 'email' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var out []service.EmailArgs
	for rows.Next() {
		var raw []byte
		var a service.EmailArgs
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
