package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
)

type observed struct {
	route, method string
	status        int
}

type fakeMetrics struct{ got []observed }

func (f *fakeMetrics) ObserveRequest(route, method string, status int, _ time.Duration) {
	f.got = append(f.got, observed{route, method, status})
}

// TestCountRequestsReportsWhatWasSent: the metrics see the route pattern ("" when none matched) and the status
// net/http sent, which is the first one written, or 200 for a handler that wrote nothing or only a body.
func TestCountRequestsReportsWhatWasSent(t *testing.T) {
	t.Parallel()
	m := &fakeMetrics{}
	r := chi.NewRouter()
	r.Use(countRequests(m))
	r.Get("/items/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	r.Get("/body", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
		w.WriteHeader(http.StatusInternalServerError) // superfluous: net/http has sent 200 already
	})
	r.Get("/nothing", func(http.ResponseWriter, *http.Request) {})
	for _, path := range []string{"/items/1", "/body", "/nothing", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	require.Equal(t, []observed{
		{"/items/{id}", http.MethodGet, http.StatusTeapot},
		{"/body", http.MethodGet, http.StatusOK},
		{"/nothing", http.MethodGet, http.StatusOK},
		{"", http.MethodGet, http.StatusNotFound},
	}, m.got)
}
