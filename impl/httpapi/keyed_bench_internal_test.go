package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/metrics"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// benchPosts answers every write with one post.
type benchPosts struct{ Posts }

func (benchPosts) Create(_ context.Context, in service.CreatePostInput) (service.Post, error) {
	return service.Post{ID: benchUser.ID, AuthorID: benchUser.ID, Title: in.Title, Content: in.Content, Published: in.Published,
		CreatedAt: benchUser.CreatedAt, UpdatedAt: benchUser.CreatedAt, Version: 1}, nil
}

// benchStore keeps no answer: what the HTTP half of a key costs (reading it, the fingerprint, holding the answer
// until it is stored and copying it out), without the database's half.
type benchStore struct{}

func (benchStore) Begin(ctx context.Context, _ service.IdempotentRequest) context.Context { return ctx }
func (benchStore) Found(context.Context) (*service.StoredAnswer, error)                   { return nil, nil }
func (benchStore) Finish(context.Context, *service.StoredAnswer) (*service.StoredAnswer, error) {
	return nil, nil
}

// BenchmarkCreatePostChain is the front door of a signed-in POST /api/posts, without and with an
// Idempotency-Key, over services that answer at once: the server's own share of what a key costs.
// go test -run '^$' -bench CreatePostChain -benchmem ./impl/httpapi
func BenchmarkCreatePostChain(b *testing.B) {
	limits := ratelimit.New(config.RateLimitConfig{Window: time.Minute, Default: 1 << 30, ListUsers: 1 << 30, SignUp: 10, Login: 10, PasswordReset: 10},
		ratelimit.NewMemory(100_000, time.Now))
	h, err := NewHandler(Services{Accounts: benchAccounts{}, Users: benchUsers{}, Posts: benchPosts{}, Comments: struct{ Comments }{},
		Billing: struct{ Billing }{}, Endpoints: struct{ Endpoints }{}, Ops: struct{ Ops }{}, Idempotency: benchStore{}},
		Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})), Limits: limits, RequestTimeout: 30 * time.Second, MaxConcurrent: 1000,
			Metrics: metrics.New(nil, nil, slog.New(slog.DiscardHandler))})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"title":"A bench post","content":"Written by the load generator, as published.","published":true}`)
	for _, keyed := range []bool{false, true} {
		b.Run(map[bool]string{false: "unkeyed", true: "keyed"}[keyed], func(b *testing.B) {
			i := 0
			send := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/api/posts", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer x")
				req.Header.Set("Content-Type", "application/json")
				if keyed {
					i++
					req.Header.Set("Idempotency-Key", "0193a1b2-c3d4-7e5f-8a6b-"+strconv.FormatInt(100000000000+int64(i), 10))
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				return w
			}
			if w := send(); w.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				send()
			}
		})
	}
}
