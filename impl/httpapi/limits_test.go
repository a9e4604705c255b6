package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/logtest"
)

func TestConcurrencyCap(t *testing.T) {
	t.Parallel()
	errs := errorWriter{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	h := concurrencyCap(2, errs)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/posts", nil)) })
	}
	<-entered
	<-entered
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/posts", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "a third request at a cap of two")
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	close(release)
	wg.Wait()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/posts", nil))
	require.Equal(t, http.StatusOK, rec.Code, "slots are given back")
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	var got time.Time
	var hasDeadline bool
	h := deadline(time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, hasDeadline = r.Context().Deadline()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/posts", nil))
	require.True(t, hasDeadline)
	require.WithinDuration(t, time.Now().Add(time.Minute), got, 5*time.Second)

	ws := httptest.NewRequest("GET", "/graphql", nil)
	ws.Header.Set("Upgrade", "websocket")
	ws.Header.Set("Connection", "Upgrade")
	h.ServeHTTP(httptest.NewRecorder(), ws)
	require.False(t, hasDeadline, "WebSockets live as long as their client")

	rest := httptest.NewRequest("GET", "/api/posts", nil)
	rest.Header.Set("Upgrade", "websocket")
	rest.Header.Set("Connection", "Upgrade")
	h.ServeHTTP(httptest.NewRecorder(), rest)
	require.True(t, hasDeadline, "an Upgrade header does not take a REST call past the deadline")
}

// TestConcurrencyCapSkipsWebSockets: a WebSocket upgrade never takes a request slot, however many are open (each
// would hold its slot as long as it lives), while an Upgrade header on anything but the GraphQL endpoint's GET
// gets no such exemption.
func TestConcurrencyCapSkipsWebSockets(t *testing.T) {
	t.Parallel()
	errs := errorWriter{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	h := concurrencyCap(1, errs)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	upgrade := func(method, path string) *http.Request {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Connection", "keep-alive, Upgrade")
		return r
	}
	var wg sync.WaitGroup
	for range 5 { // five sockets held open at a cap of one
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), upgrade("GET", "/graphql")) })
	}
	for range 5 {
		<-entered
	}
	wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/posts", nil)) })
	<-entered // the one slot is free for a request beside the sockets

	for _, r := range []*http.Request{upgrade("GET", "/api/posts"), upgrade("POST", "/graphql"), httptest.NewRequest("GET", "/graphql", nil)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s %s takes a slot like any request", r.Method, r.URL.Path)
	}
	close(release)
	wg.Wait()
}

// TestBodyFirstKeepsToItsBudget: a body is read ahead of the concurrency slot only while the bodies held so far
// fit the budget; beyond it the request goes on with its body unread, and the budget comes back when it ends.
func TestBodyFirstKeepsToItsBudget(t *testing.T) {
	t.Parallel()
	logger, _ := logtest.New()
	var readAhead []bool
	var h http.Handler
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := r.Body.(readCloser)
		readAhead = append(readAhead, ok)
		if r.URL.Path == "/nested" { // a second request while the first still holds its body
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789")))
		}
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.Len(t, b, 10, "the whole body, read ahead or not")
	})
	h = bodyFirst(100, 15, errorWriter{logger: logger})(inner)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/nested", strings.NewReader("0123456789")))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789")))
	require.Equal(t, []bool{true, false, true}, readAhead, "read ahead; over budget while the first is held; back within it")
}
