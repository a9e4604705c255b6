package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/lossyproxy"
	"github.com/junction-dev/junction/sdk/go/retry"
)

// TestALostMutationAnswerIsRetriedIntoTheFirstOne: a keyed mutation whose answer the network loses after the
// server ran it is retried by the Go SDK's transport and answered with the first answer; one post exists.
func TestALostMutationAnswerIsRetriedIntoTheFirstOne(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	proxy := lossyproxy.New(t, in.url[len("http://"):])
	tr := retry.New(nil)
	tr.BaseDelay = time.Millisecond
	client := &http.Client{Transport: tr}

	body, err := json.Marshal(map[string]any{"query": `mutation { createPost(input: {title: "Once", content: "Only once."}) { id title } }`})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, proxy.URL()+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(retry.KeyHeader, "create-once")
	proxy.Drop(1)
	resp, err := client.Do(req)
	require.NoError(t, err)
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"), "the first answer, replayed")
	require.Contains(t, string(data), `"title":"Once"`)
	require.Equal(t, 1, proxy.Dropped())
	var n int
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM posts").Scan(&n))
	require.Equal(t, 1, n)
}
