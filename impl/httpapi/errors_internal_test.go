package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/logtest"
)

// TestAnErrorAfterTheAnswerStartedWritesNothing: when writing a response fails after its status went out (the
// client hung up), the error handler sends no second status or envelope, which net/http would refuse with a
// "superfluous WriteHeader" warning; it only logs.
func TestAnErrorAfterTheAnswerStartedWritesNothing(t *testing.T) {
	t.Parallel()
	logger, logs := logtest.New()
	errs := errorWriter{logger: logger}
	r := httptest.NewRequest(http.MethodGet, "/api/posts", nil)
	for _, tt := range []struct {
		name    string
		started bool
		want    int
	}{
		{"before the answer: the envelope", false, http.StatusServiceUnavailable},
		{"after it started: nothing more", true, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := httptest.NewRecorder()
			rec := &statusRecorder{ResponseWriter: out}
			if tt.started {
				rec.WriteHeader(http.StatusOK)
			}
			errs.service(rec, r, fmt.Errorf("write: %w", syscall.EPIPE))
			require.Equal(t, tt.want, out.Code)
			if tt.started {
				require.Empty(t, out.Body.String())
				require.Contains(t, logs.String(), "response failed after it started")
			}
		})
	}
}
