package postgres

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
