package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// keyed posts one GraphQL request with an Idempotency-Key and returns its status, replay mark and raw body.
func (in *instance) keyed(t *testing.T, token, key, query string) (int, string, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, in.url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), string(data)
}

// TestAKeyedMutationRunsOnce: a mutation sent with an Idempotency-Key, as REST's keyed operations: its retry gets
// the first answer and writes nothing, the key with another mutation is a 422, 50 at once make one post, and a
// key on a query or on several operations is refused.
func TestAKeyedMutationRunsOnce(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	posts := func() int {
		var n int
		require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM posts").Scan(&n))
		return n
	}
	create := `mutation { createPost(input: {title: "Once", content: "Only once."}) { id title } }`
	status, replayed, first := in.keyed(t, token, "gql-1", create)
	require.Equal(t, http.StatusOK, status, first)
	require.Empty(t, replayed)
	status, replayed, again := in.keyed(t, token, "gql-1", create)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "true", replayed)
	require.Equal(t, first, again, "byte for byte")
	require.Equal(t, 1, posts())

	status, _, body := in.keyed(t, token, "gql-1", `mutation { createPost(input: {title: "Other", content: "Another."}) { id } }`)
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "UNPROCESSABLE")

	for _, q := range []string{`{ posts { edges { node { id } } } }`, `mutation a { createPost(input: {title: "A", content: "A"}) { id } } mutation b { createPost(input: {title: "B", content: "B"}) { id } }`} {
		status, _, body := in.keyed(t, token, "gql-bad", q)
		require.Equal(t, http.StatusBadRequest, status, body)
	}

	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		wg.Go(func() {
			statuses[i], _, _ = in.keyed(t, token, "gql-at-once", `mutation { createPost(input: {title: "At once", content: "Once."}) { id } }`)
		})
	}
	wg.Wait()
	for _, s := range statuses {
		require.Contains(t, []int{http.StatusOK, http.StatusConflict}, s)
	}
	require.Equal(t, 2, posts(), "one execution for 50 at once")

	// Past its time the key runs the mutation again, with the body it came with, and its new answer replaces
	// the old.
	_, err := in.pool.Exec(context.Background(), "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
	require.NoError(t, err)
	status, replayed, rerun := in.keyed(t, token, "gql-1", create)
	require.Equal(t, http.StatusOK, status, rerun)
	require.Empty(t, replayed, "past its time the key runs again")
	require.NotEqual(t, first, rerun, "a new post")
	require.Contains(t, rerun, `"title":"Once"`)
	require.Equal(t, 3, posts())
	status, replayed, again = in.keyed(t, token, "gql-1", create)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "true", replayed)
	require.Equal(t, rerun, again)
}

// TestKeyedMutationsWithNestedFieldsDoNotWaitForEachOther: a keyed mutation holds its connection until its answer
// is stored, and its selection's nested fields read after its write (the dataloaders). Those reads go through
// its own transaction: from the pool, as many such requests at once as the pool has connections each waited
// for a second, for ever, and every request of the instance with them. They also see the mutation's write.
func TestKeyedMutationsWithNestedFieldsDoNotWaitForEachOther(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	const n = 16
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	statuses, bodies := make([]int, n), make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body, _ := json.Marshal(map[string]any{"query": `mutation { createPost(input: {title: "T", content: "C"}) { id author { name posts(limit: 5) { title } } } }`})
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url+"/graphql", bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("nested-%d", i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				bodies[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			statuses[i], bodies[i] = resp.StatusCode, string(data)
		})
	}
	wg.Wait()
	for i := range n {
		require.Equal(t, http.StatusOK, statuses[i], bodies[i])
		require.Contains(t, bodies[i], `"name":"Ada"`)
		require.NotContains(t, bodies[i], `"errors"`)
	}
}
