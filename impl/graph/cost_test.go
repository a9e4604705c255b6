package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/graph"
)

// amplification is the finding's query: 20 aliases of users(limit: 100) with every post's comments. Counting each
// field once priced it at a few hundred; it answered 314 MB.
func amplification() (aliases, fragments string) {
	const sel = `edges { node { posts { comments { id content createdAt } } } }`
	var b strings.Builder
	b.WriteString(`query {`)
	for i := range 20 {
		fmt.Fprintf(&b, ` u%d: users(limit: 100) { %s }`, i, sel)
	}
	b.WriteString(` }`)
	aliases = b.String()
	b.Reset()
	b.WriteString(`query {`)
	for i := range 20 {
		fmt.Fprintf(&b, ` u%d: users(limit: 100) { ...U }`, i)
	}
	b.WriteString(` } fragment U on UserConnection { edges { node { ...P } } } fragment P on User { posts { ...C } }` +
		` fragment C on Post { comments { id content createdAt } }`)
	return aliases, b.String()
}

// TestCostCountsListSizes prices operations with a budget of 1, so that every one is refused with its cost.
func TestCostCountsListSizes(t *testing.T) {
	t.Parallel()
	in := setup(t, func(o *graph.Options) { o.MaxComplexity = 1 })
	aliases, fragments := amplification()
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		cost  int
	}{
		// 1 + 20 × (edges 1 + node 1 + posts (1 + 20 × comments (1 + 20 × author (1 + id 1))))
		{"the nested bench query, defaults", `query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`, nil, 16461},
		{"a page multiplies its selection", `query { users(limit: 100) { edges { node { id } } } }`, nil, 301},
		{"absent limit is the default, 20", `query { posts { edges { node { id } } } }`, nil, 61},
		{"first counts", `query { users(first: 5) { edges { node { posts(limit: 3) { id } } } } }`, nil, 31},
		{"last counts", `query { posts(last: 7) { edges { node { id } } } }`, nil, 22},
		{"beyond the service's maximum is priced at it", `query { posts(last: 5000) { edges { node { id } } } }`, nil, 301},
		{"User.posts and Post.comments take their limit", `query { post(id: "` + uuid.NewString() + `") { comments(limit: 100) { id } author { posts(limit: 50) { id } } } }`, nil, 1 + 101 + 1 + 51},
		{"variables count", `query($n: Int) { users(limit: $n) { edges { node { id } } } }`, map[string]any{"n": 50}, 151},
		{"aliases add up", `query { a: users(limit: 10) { edges { node { id } } } b: users(limit: 10) { edges { node { id } } } }`, nil, 62},
		{"fragments count as inline", `query { users(limit: 10) { ...U } } fragment U on UserConnection { edges { node { id } } }`, nil, 31},
		{"the amplification query", aliases, nil, 20 * (1 + 100*(1+1+(1+20*(1+20*3))))},
		{"the amplification query through fragments", fragments, nil, 20 * (1 + 100*(1+1+(1+20*(1+20*3))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := in.do(t, "", tt.query, tt.vars)
			require.Equal(t, "QUERY_TOO_COMPLEX", r.code(), "%+v", r.Errors)
			require.EqualValues(t, tt.cost, r.Errors[0].Extensions["cost"])
			require.EqualValues(t, 1, r.Errors[0].Extensions["limit"])
		})
	}
}

// TestAmplificationRefusedBeforeSQL sends the finding's query, by aliases and through fragments, to the
// production budget: it is refused with its cost, and not one statement runs for it.
func TestAmplificationRefusedBeforeSQL(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	aliases, fragments := amplification()
	statements := func(token, query string) (gqlResponse, int64) {
		before := in.count.n.Load()
		r := in.do(t, token, query, nil)
		return r, in.count.n.Load() - before
	}
	_, auth := statements(token, `query { __typename }`) // what signing the request in costs, whatever it asks
	for _, q := range []string{aliases, fragments} {
		for _, tok := range []string{"", token} {
			r, n := statements(tok, q)
			require.Equal(t, "QUERY_TOO_COMPLEX", r.code(), "%+v", r.Errors)
			require.Nil(t, r.Data["u0"])
			require.EqualValues(t, 2446020, r.Errors[0].Extensions["cost"])
			require.EqualValues(t, 50_000, r.Errors[0].Extensions["limit"])
			require.Contains(t, r.Errors[0].Message, "costs 2446020; the limit is 50000")
			if tok == "" {
				require.Zero(t, n, "no statement runs for a refused query")
			} else {
				require.Equal(t, auth, n, "no statement runs for a refused query but the sign-in's")
			}
		}
	}
	// The bench query, with its defaults, fits the production budget with room.
	in.ok(t, token, `query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`, nil)
}

// TestPerParentLimit: User.posts and Post.comments serve at most their limit, the default being 20, and parents
// asked for with different limits still share one statement per level.
func TestPerParentLimit(t *testing.T) {
	t.Parallel()
	in := setup(t)
	id, token := in.signUp(t, "Ada", "ada@example.com")
	ctx := context.Background()
	_, err := in.pool.Exec(ctx, `INSERT INTO posts (author_id, title, content, published, published_at, created_at)
		SELECT $1, 'P' || g, 'C', true, now(), now() - g * interval '1 second' FROM generate_series(1, 30) g`, id)
	require.NoError(t, err)
	_, err = in.pool.Exec(ctx, `INSERT INTO comments (post_id, author_id, content, created_at)
		SELECT p.id, $1, 'c' || g, now() + g * interval '1 second' FROM posts p, generate_series(1, 25) g`, id)
	require.NoError(t, err)

	count := func(query string) (map[string]any, int64) {
		before := in.count.n.Load()
		d := in.ok(t, token, query, map[string]any{"id": id})
		return d, in.count.n.Load() - before
	}
	d, plain := count(`query($id: ID!) { user(id: $id) { posts { id comments { id } } } }`)
	posts := get(d, "user", "posts").([]any)
	require.Len(t, posts, 20, "default 20 posts")
	require.Len(t, get(posts[0], "comments"), 20, "default 20 comments")

	d, mixed := count(`query($id: ID!) { user(id: $id) { a: posts(limit: 1) { id c: comments(limit: 2) { content } d: comments(limit: 25) { id } }
		b: posts(limit: 100) { id comments(limit: 1) { id } } } }`)
	require.Equal(t, plain, mixed, "different limits share one statement per level")
	a, b := get(d, "user", "a").([]any), get(d, "user", "b").([]any)
	require.Len(t, a, 1)
	require.Len(t, b, 30, "at most what exists")
	require.Equal(t, get(a[0], "id"), get(b[0], "id"), "the newest first, whatever the limit")
	require.Equal(t, []any{map[string]any{"content": "c1"}, map[string]any{"content": "c2"}}, get(a[0], "c"), "the oldest comments first")
	require.Len(t, get(a[0], "d"), 25)
	require.Len(t, get(b[0], "comments"), 1)

	for _, bad := range []string{`posts(limit: 0) { id }`, `posts(limit: 101) { id }`, `posts { comments(limit: -1) { id } }`} {
		r := in.do(t, token, `query($id: ID!) { user(id: $id) { `+bad+` } }`, map[string]any{"id": id})
		require.Equal(t, "BAD_USER_INPUT", r.code(), bad)
		require.Contains(t, r.Errors[0].Extensions["fields"], "limit", bad)
	}
}
