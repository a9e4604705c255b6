package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/logtest"
)

// TestClientThatLeftIsNotAServerError: a request whose client went away mid-query is logged as such, at info,
// and recorded as 499; not as a 500 and an "internal error" line.
func TestClientThatLeftIsNotAServerError(t *testing.T) {
	t.Parallel()
	logger, logs := logtest.New()
	e := errorWriter{logger: logger}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/users", nil)
	rec := httptest.NewRecorder()
	e.service(rec, req, fmt.Errorf("list users: %w", context.Canceled))
	require.Equal(t, statusClientClosedRequest, rec.Code)
	require.Contains(t, logs.String(), "client closed the request")
	require.NotContains(t, logs.String(), "internal error")
}
