package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/postgres"
)

// TestTracer: a statement run under a span is a child span named by its sqlc name, holding its text and never
// its arguments; one run outside any span makes none.
func TestTracer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	pool, err := postgres.Connect(ctx, dbtest.NewURL(t), config.DBConfig{
		MaxConns: 2, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 2 * time.Second, WaitTimeout: 5 * time.Second,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)), postgres.Tracer(tp))
	require.NoError(t, err)
	defer pool.Close()

	const stmt = "-- name: ProbeSecret :one\nSELECT length($1::text)"
	var n int
	require.NoError(t, pool.QueryRow(ctx, stmt, "outside a span").Scan(&n))
	require.Empty(t, rec.Ended(), "no span without a parent")

	parentCtx, parent := tp.Tracer("test").Start(ctx, "request")
	require.NoError(t, pool.QueryRow(parentCtx, stmt, "s3cret-argument").Scan(&n))
	require.NoError(t, pool.QueryRow(parentCtx, "SELECT 1").Scan(&n))
	parent.End()

	names := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		names[s.Name()] = s
		for _, a := range s.Attributes() {
			require.NotContains(t, a.Value.String(), "s3cret-argument", "%s: %s", s.Name(), a.Key)
		}
	}
	probe, ok := names["ProbeSecret"]
	require.True(t, ok, "spans: %v", keys(names))
	require.Equal(t, parent.SpanContext().SpanID(), probe.Parent().SpanID())
	require.Contains(t, fmt.Sprint(probe.Attributes()), "SELECT length($1::text)", "the statement's text is kept")
	require.Contains(t, names, "SELECT", "a statement without an sqlc name is named by its verb")

	// The connection's attributes, set once for the pool, are otelpgx's own.
	attrs := map[string]string{}
	for _, a := range probe.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
	}
	cc, err := pgx.ParseConfig(dbtest.NewURL(t))
	require.NoError(t, err)
	for k, v := range map[string]string{"db.system.name": "postgresql", "server.address": cc.Host,
		"server.port": strconv.Itoa(int(cc.Port)), "user.name": cc.User, "db.namespace": pool.Config().ConnConfig.Database} {
		require.Equal(t, v, attrs[k], k)
	}
}

func keys(m map[string]sdktrace.ReadOnlySpan) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
