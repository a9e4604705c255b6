package retry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/sdk/go/retry"
)

// TestWhatIsRetriedAndHowLong: which answers are retried, for which requests, how many times and after how
// long, against a server that answers each try as the case says.
func TestWhatIsRetriedAndHowLong(t *testing.T) {
	t.Parallel()
	type answer struct {
		status     int
		retryAfter string
	}
	tests := []struct {
		name    string
		method  string
		path    string
		key     bool
		answers []answer
		tries   int
		status  int
		atLeast time.Duration
	}{
		{"a GET through 503s", http.MethodGet, "/api/posts", false, []answer{{503, ""}, {503, ""}, {200, ""}}, 3, 200, 0},
		{"Retry-After is waited", http.MethodGet, "/api/posts", false, []answer{{429, "1"}, {200, ""}}, 2, 200, time.Second},
		{"at most Attempts", http.MethodDelete, "/api/posts/x", false, []answer{{503, ""}, {503, ""}, {503, ""}, {200, ""}}, 3, 503, 0},
		{"a 500 is not retried", http.MethodGet, "/api/posts", false, []answer{{500, ""}, {200, ""}}, 1, 500, 0},
		{"a keyed POST's running key", http.MethodPost, "/api/posts", false, []answer{{409, "0"}, {201, ""}}, 2, 201, 0},
		{"a 409 without Retry-After is the answer", http.MethodPost, "/api/users", false, []answer{{409, ""}, {201, ""}}, 1, 409, 0},
		{"a POST the contract gives no key", http.MethodPost, "/api/auth/token", false, []answer{{503, ""}, {200, ""}}, 1, 503, 0},
		{"past the deadline, the last answer", http.MethodGet, "/api/posts", false, []answer{{503, "60"}, {200, ""}}, 1, 503, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			var keys []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				keys = append(keys, r.Header.Get(retry.KeyHeader))
				a := tc.answers[min(i, len(tc.answers)-1)]
				if a.retryAfter != "" {
					w.Header().Set("Retry-After", a.retryAfter)
				}
				w.WriteHeader(a.status)
			}))
			defer srv.Close()
			tr := retry.New(nil)
			tr.BaseDelay, tr.Deadline = time.Millisecond, 10*time.Second
			req, err := http.NewRequestWithContext(context.Background(), tc.method, srv.URL+tc.path, strings.NewReader(`{}`))
			require.NoError(t, err)
			begin := time.Now()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			require.EqualValues(t, tc.tries, n.Load())
			require.GreaterOrEqual(t, time.Since(begin), tc.atLeast)
			if tc.method == http.MethodPost && tc.tries > 1 {
				require.NotEmpty(t, keys[0], "a key the SDK chose")
				for _, k := range keys {
					require.Equal(t, keys[0], k, "the same key on every try")
				}
			}
			require.Empty(t, req.Header.Get(retry.KeyHeader), "the caller's request is not changed")
		})
	}
}
