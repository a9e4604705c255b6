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
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
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
// and addresses. Statements run outside any recording span (an unsampled request, River's polling, the event
// listener) make none, and cost one look-up of the context's span. Given to [Connect], its spans carry the pool's
// server, port, database and user, worked out once for the pool.
func Tracer(tp trace.TracerProvider) pgx.QueryTracer {
	return sampledOnly{tp: tp, inner: newOtelpgx(tp)}
}

func newOtelpgx(tp trace.TracerProvider, opts ...otelpgx.Option) *otelpgx.Tracer {
	return otelpgx.NewTracer(append([]otelpgx.Option{
		otelpgx.WithTracerProvider(tp),
		// Junction's database metrics are Prometheus's (impl/metrics); the global meter would be a no-op anyway.
		otelpgx.WithMeterProvider(noop.NewMeterProvider()),
		otelpgx.WithSpanNameCtxFunc(queryName),
	}, opts...)...)
}

// forPool is t with the attributes of the connections pool cc makes set once: otelpgx would otherwise read them
// from the connection for every span, through pgx's Conn.Config, which copies the whole configuration (a fifth
// of otelpgx's own time a sampled statement). They are the ones otelpgx sets.
func (t sampledOnly) forPool(cc *pgx.ConnConfig) pgx.QueryTracer {
	return sampledOnly{tp: t.tp, inner: newOtelpgx(t.tp, otelpgx.WithDisableConnectionDetailsInAttributes(),
		otelpgx.WithTracerAttributes(semconv.ServerAddress(cc.Host), semconv.ServerPort(int(cc.Port)), semconv.UserName(cc.User), semconv.DBNamespace(cc.Database)))}
}

// sampledOnly calls otelpgx only under a recording span, and not for pool acquires: a span per acquire was a
// third of a by-id read's spans and 2% of the traced server's CPU, and the pool's waits are already measured
// (junction_db_pool_* in impl/metrics). otelpgx itself does work for every statement, sampled
// or not (a start time boxed into the context, and several look-ups of a deep request context, for its metrics):
// at 10% sampling that was 4% of the server's CPU on the by-id read. Start and End see the same context's span,
// so they agree on whether otelpgx saw the statement.
type sampledOnly struct {
	tp    trace.TracerProvider
	inner *otelpgx.Tracer
}

var (
	_ pgx.QueryTracer    = sampledOnly{}
	_ pgx.BatchTracer    = sampledOnly{}
	_ pgx.CopyFromTracer = sampledOnly{}
	_ pgx.PrepareTracer  = sampledOnly{}
	_ pgx.ConnectTracer  = sampledOnly{}
)

func recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

func (t sampledOnly) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return t.inner.TraceQueryStart(ctx, c, d)
}

func (t sampledOnly) TraceQueryEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	if recording(ctx) {
		t.inner.TraceQueryEnd(ctx, c, d)
	}
}

func (t sampledOnly) TraceBatchStart(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return t.inner.TraceBatchStart(ctx, c, d)
}

func (t sampledOnly) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	if recording(ctx) {
		t.inner.TraceBatchQuery(ctx, c, d)
	}
}

func (t sampledOnly) TraceBatchEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchEndData) {
	if recording(ctx) {
		t.inner.TraceBatchEnd(ctx, c, d)
	}
}

func (t sampledOnly) TraceCopyFromStart(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return t.inner.TraceCopyFromStart(ctx, c, d)
}

func (t sampledOnly) TraceCopyFromEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromEndData) {
	if recording(ctx) {
		t.inner.TraceCopyFromEnd(ctx, c, d)
	}
}

func (t sampledOnly) TracePrepareStart(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return t.inner.TracePrepareStart(ctx, c, d)
}

func (t sampledOnly) TracePrepareEnd(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareEndData) {
	if recording(ctx) {
		t.inner.TracePrepareEnd(ctx, c, d)
	}
}

func (t sampledOnly) TraceConnectStart(ctx context.Context, d pgx.TraceConnectStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return t.inner.TraceConnectStart(ctx, d)
}

func (t sampledOnly) TraceConnectEnd(ctx context.Context, d pgx.TraceConnectEndData) {
	if recording(ctx) {
		t.inner.TraceConnectEnd(ctx, d)
	}
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
