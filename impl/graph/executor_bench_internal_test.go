package graph

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/idempotent"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// memData is the bench's shape in memory: 50 users with 5 posts each, 5 comments a post by authors spread over
// them. The stub services below serve it, so that the benchmark measures the executor and nothing else.
type memData struct {
	users    []service.User
	byID     map[uuid.UUID]service.User
	posts    map[uuid.UUID][]service.Post
	comments map[uuid.UUID][]service.Comment
}

type stubUsers struct {
	Users
	d *memData
}

func (s stubUsers) List(ctx context.Context, p service.ListUsersParams) (service.UserPage, error) {
	return service.UserPage{Users: s.d.users[:p.Limit]}, nil
}
func (s stubUsers) ByIDs(ctx context.Context, ids []uuid.UUID) ([]service.User, error) {
	out := make([]service.User, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.d.byID[id])
	}
	return out, nil
}

type stubPosts struct {
	Posts
	d *memData
}

func (s stubPosts) ByAuthors(ctx context.Context, ids []uuid.UUID, n int) (map[uuid.UUID][]service.Post, error) {
	out := map[uuid.UUID][]service.Post{}
	for _, id := range ids {
		out[id] = s.d.posts[id]
	}
	return out, nil
}

type stubComments struct {
	Comments
	d *memData
}

func (s stubComments) ByPosts(ctx context.Context, ids []uuid.UUID, n int) (map[uuid.UUID][]service.Comment, error) {
	out := map[uuid.UUID][]service.Comment{}
	for _, id := range ids {
		out[id] = s.d.comments[id]
	}
	return out, nil
}

type (
	stubAccounts struct{ Accounts }
	stubIdem     struct{ idempotent.Store }
)

// BenchmarkExecutorInMemory is the bench's nested query over in-memory services: what the executor costs per
// request, client included, with the fast path (production) and through gqlgen's generated executor alone.
func BenchmarkExecutorInMemory(b *testing.B) {
	b.Run("fast", func(b *testing.B) { benchExecutor(b, false) })
	b.Run("generated", func(b *testing.B) { benchExecutor(b, true) })
}

func benchExecutor(b *testing.B, generatedOnly bool) {
	d := &memData{byID: map[uuid.UUID]service.User{}, posts: map[uuid.UUID][]service.Post{}, comments: map[uuid.UUID][]service.Comment{}}
	now := time.Now()
	for range 50 {
		u := service.User{ID: uuid.New(), Name: "U", Email: "u@example.com", CreatedAt: now, UpdatedAt: now}
		d.users = append(d.users, u)
		d.byID[u.ID] = u
	}
	for _, u := range d.users {
		for range 5 {
			p := service.Post{ID: uuid.New(), AuthorID: u.ID, Title: "T", Content: "C", Published: true, CreatedAt: now}
			d.posts[u.ID] = append(d.posts[u.ID], p)
			for k := range 5 {
				d.comments[p.ID] = append(d.comments[p.ID], service.Comment{ID: uuid.New(), PostID: p.ID, AuthorID: d.users[(k*7+len(d.comments))%50].ID, Content: "c", CreatedAt: now})
			}
		}
	}
	svc := Services{Accounts: stubAccounts{}, Users: stubUsers{d: d}, Posts: stubPosts{d: d}, Comments: stubComments{d: d}, Idempotency: stubIdem{}}
	limits := ratelimit.New(config.RateLimitConfig{Window: time.Minute, Default: 1e9, ListUsers: 1e9, SignUp: 1e9, Login: 1e9, PasswordReset: 1e9},
		ratelimit.NewMemory(1<<16, time.Now))
	h := NewHandler(svc, NewBroker(svc, slog.New(slog.DiscardHandler)), Options{MaxDepth: 10, MaxComplexity: 50000, BodyLimit: 1 << 16, Logger: slog.New(slog.DiscardHandler), LoaderWait: time.Microsecond, Limits: limits, GeneratedExecutorOnly: generatedOnly})
	body := `{"query":"{ users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }"}`
	do := func() string {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		out, _ := io.ReadAll(w.Body)
		return string(out)
	}
	first := do()
	if strings.Contains(first, "errors") {
		b.Fatal(first[:min(500, len(first))])
	}
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		do()
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.ReportMetric(float64(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(first)), "bytes/answer")
}
