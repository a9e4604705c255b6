package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/graph"
)

// seedBigPosts gives the user n published posts whose content is 50,000 times char, the most a post may hold.
func seedBigPosts(t *testing.T, in *instance, author string, n int, char string) {
	t.Helper()
	_, err := in.pool.Exec(context.Background(), `INSERT INTO posts (author_id, title, content, published, published_at)
		SELECT $1, 'Big ' || g, repeat($3, 50000), true, now() FROM generate_series(1, $2::int) g`, author, n, char)
	require.NoError(t, err)
}

// TestResponseSizeCap: queries well under the cost budget whose answers weigh more than the cap are cut with
// RESPONSE_TOO_LARGE, in a small answer, and the fields still to resolve do not run.
func TestResponseSizeCap(t *testing.T) {
	t.Parallel()
	in := setup(t)
	id, token := in.signUp(t, "Ada", "ada@example.com")
	seedBigPosts(t, in, id, 100, "x")

	// 60 posts × 50 KB = 3 MB: under 4 MiB, answered.
	d := in.ok(t, token, `query { posts(first: 60) { edges { node { content } } } }`, nil)
	require.Len(t, get(d, "posts", "edges"), 60)

	// 100 × 50 KB = 5 MB: cut. It costs 301, so the estimate alone would let it through.
	resp := post(t, in, token, `{"query":"query { posts(first: 100) { edges { node { title content comments { id } } } } }"}`)
	require.Equal(t, http.StatusOK, resp.status)
	require.Less(t, len(resp.body), 1024, "the answer is one error, not 4 MiB of data and then one")
	r := decode(t, resp.body)
	require.Len(t, r.Errors, 1)
	require.Equal(t, "RESPONSE_TOO_LARGE", r.code())
	require.EqualValues(t, 4<<20, r.Errors[0].Extensions["limit"])
	require.Nil(t, r.Data)

	// Content that JSON escapes weighs more than its length: 20 posts of 50,000 '<' are 6 MB once written.
	other, otherToken := in.signUp(t, "Grace", "grace@example.com")
	seedBigPosts(t, in, other, 20, "<")
	r = in.do(t, otherToken, `query($id: ID!) { user(id: $id) { posts { content } } }`, map[string]any{"id": other})
	require.Equal(t, "RESPONSE_TOO_LARGE", r.code(), "%.200v", r)
}

// TestResponseSizeCapStopsResolving: once over, no further field resolves, so no dataloader queries for the
// nested fields of the items that come after.
func TestResponseSizeCapStopsResolving(t *testing.T) {
	t.Parallel()
	// Under one post's content: whichever post resolves first passes the cap before its comments' turn (gqlgen
	// resolves an object's plain fields before its resolvers').
	in := setup(t, func(o *graph.Options) { o.MaxResponseBytes = 30_000 })
	id, token := in.signUp(t, "Ada", "ada@example.com")
	seedBigPosts(t, in, id, 3, "x")

	before := in.count.n.Load()
	in.ok(t, token, `query { posts(first: 3) { edges { node { id } } } }`, nil)
	small := in.count.n.Load() - before

	// Their comments would be one more statement.
	before = in.count.n.Load()
	r := in.do(t, token, `query { posts(first: 3) { edges { node { content comments { id } } } } }`, nil)
	require.Equal(t, "RESPONSE_TOO_LARGE", r.code())
	require.Equal(t, small, in.count.n.Load()-before, "the comments' loader never ran")
}

type rawResponse struct {
	status int
	body   string
}

// post sends body as is to the GraphQL endpoint.
func post(t *testing.T, in *instance, token, body string) rawResponse {
	t.Helper()
	var headers []string
	if token != "" {
		headers = []string{"Authorization", "Bearer " + token}
	}
	status, _, b := in.send(t, "/graphql", body, headers...)
	return rawResponse{status: status, body: string(b)}
}

// TestSubscriptionEventsHaveTheirOwnCap: one write reaches every subscriber at once, so an event is capped below
// an answer (N1b of the second review: three subscriptions of an author's 100 posts answered 97 MB each on one
// ordinary post).
func TestSubscriptionEventsHaveTheirOwnCap(t *testing.T) {
	t.Parallel()
	in := setup(t)
	id, token := in.signUp(t, "Ada", "ada@example.com")
	_, err := in.pool.Exec(context.Background(), `INSERT INTO posts (author_id, title, content, published, published_at)
		SELECT $1, 'Long ' || g, repeat('x', 50000), true, now() FROM generate_series(1, 12) g`, id)
	require.NoError(t, err)
	c := dialWS(t, in, token)
	c.subscribe("big", `subscription { postCreated { author { posts(limit: 100) { content } } } }`)
	c.subscribe("small", `subscription { postCreated { title author { name } } }`)
	restPost(t, in, token, "Short", true)
	got := map[string]string{}
	for range 2 {
		msg := c.read(10 * time.Second)
		require.NotNil(t, msg)
		got[msg["id"].(string)] = fmt.Sprint(msg["payload"])
	}
	require.Contains(t, got["big"], "RESPONSE_TOO_LARGE", "600 KB of posts in one event")
	require.Contains(t, got["small"], "Short")
}
