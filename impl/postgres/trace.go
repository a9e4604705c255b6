package postgres

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// errorLogger logs the pool's own failures: connections that cannot be opened and acquires that fail. Query
// errors are the caller's to handle and are not logged here. pgconn's connect errors never include the password.
type errorLogger struct{ logger *slog.Logger }

var (
	_ pgx.QueryTracer       = errorLogger{}
	_ pgx.ConnectTracer     = errorLogger{}
	_ pgxpool.AcquireTracer = errorLogger{}
)

func (errorLogger) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (errorLogger) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (errorLogger) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return ctx
}

func (l errorLogger) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	if data.Err != nil {
		l.logger.WarnContext(ctx, "database connect failed", "err", data.Err)
	}
}

func (errorLogger) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return ctx
}

func (l errorLogger) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	// A caller that gave up (request cancelled, deadline passed) is not a pool failure.
	if data.Err != nil && !errors.Is(data.Err, context.Canceled) && !errors.Is(data.Err, context.DeadlineExceeded) {
		l.logger.WarnContext(ctx, "database acquire failed", "err", data.Err)
	}
}

// Tracer makes a span of each statement (and of each batch, prepare, connect and acquire from the pool) run
// under a recording span, named by the sqlc query it runs ("UserGet", River's "JobInsertFastMany"), else by its
// SQL verb. A span holds the statement's text, never its arguments: they carry password hashes, sealed tokens
// and addresses. Statements run outside any recording span (River's polling, the event listener) make none.
func Tracer(tp trace.TracerProvider) pgx.QueryTracer {
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(tp),
		// Junction's database metrics are Prometheus's (impl/metrics); the global meter would be a no-op anyway.
		otelpgx.WithMeterProvider(noop.NewMeterProvider()),
		otelpgx.WithSpanNameCtxFunc(queryName),
	)
}

// queryName is the name sqlc gives a statement in its leading comment ("-- name: UserGet :one"): more telling
// than the verb, and as bounded, since it names code rather than values.
func queryName(ctx context.Context, sql string) string {
	if rest, ok := strings.CutPrefix(sql, "-- name: "); ok {
		if name, _, ok := strings.Cut(rest, " "); ok && name != "" {
			return name
		}
	}
	return otelpgx.SQLOperationName(ctx, sql)
}
