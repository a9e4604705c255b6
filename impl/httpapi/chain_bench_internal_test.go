package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/metrics"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// benchAccounts signs every token in as one user, so that the benchmark measures the front door, not the tokens.
type benchAccounts struct{ Accounts }

func (benchAccounts) Authenticate(context.Context, string) (service.Actor, error) {
	return service.Actor{UserID: benchUser.ID, Role: service.RoleUser}, nil
}

// benchUsers answers every read with one user.
type benchUsers struct{ Users }

func (benchUsers) Get(context.Context, uuid.UUID) (service.User, error) { return benchUser, nil }

var benchUser = service.User{ID: uuid.MustParse("fa1260de-9ce9-4904-8a8a-2bc7377a6353"), Name: "Ada", Email: "ada@example.com",
	CreatedAt: time.Unix(1700000000, 0).UTC(), UpdatedAt: time.Unix(1700000000, 0).UTC(), Version: 1}

// BenchmarkByIDChain is the whole front door of a signed-in GET /api/users/{id} with every policy on (request id,
// client address, access log as JSON, security headers, body limits, concurrency cap, deadline, metrics, rate
// limit, authentication, validation), over services that answer at once: what the server spends per by-id read
// besides the query and the sockets. go test -run '^$' -bench ByIDChain -benchmem ./impl/httpapi
//
// "traced" adds the request span at 10% sampling, batches dropped (no SQL spans: the services are fakes).
func BenchmarkByIDChain(b *testing.B) {
	for _, traced := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "traced"}[traced], func(b *testing.B) { benchmarkByIDChain(b, traced) })
	}
}

func benchmarkByIDChain(b *testing.B, traced bool) {
	var tp trace.TracerProvider
	if traced {
		sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))),
			sdktrace.WithBatcher(discardExporter{}))
		b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
		tp = sdk
	}
	limits := ratelimit.New(config.RateLimitConfig{Window: time.Minute, Default: 1 << 30, ListUsers: 1 << 30, SignUp: 10, Login: 10, PasswordReset: 10},
		ratelimit.NewMemory(100_000, time.Now))
	h, err := NewHandler(Services{Accounts: benchAccounts{}, Users: benchUsers{}, Posts: struct{ Posts }{}, Comments: struct{ Comments }{},
		Billing: struct{ Billing }{}, Endpoints: struct{ Endpoints }{}, Ops: struct{ Ops }{}, Idempotency: struct{ Idempotency }{}},
		Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})), Limits: limits, RequestTimeout: 30 * time.Second, MaxConcurrent: 1000,
			Metrics: metrics.New(nil, nil, slog.New(slog.DiscardHandler)), TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/users/"+benchUser.ID.String(), nil)
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("User-Agent", "bench")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
