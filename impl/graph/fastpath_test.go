package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/graph"
)

// fastPair is two instances on one database: one with the fast path of the read root fields (production's),
// one answering everything through gqlgen's generated executor, the reference.
type fastPair struct {
	fast, generated *instance
	token           string
	ids             map[string]string // name → user id
	draft           string            // a draft post of Ada's
}

func setupFastPair(t *testing.T, with ...func(*graph.Options)) *fastPair {
	t.Helper()
	dbURL := dbtest.NewURL(t)
	p := &fastPair{fast: newInstance(t, dbURL, with...), ids: map[string]string{}}
	p.generated = newInstance(t, dbURL, append(with, func(o *graph.Options) { o.GeneratedExecutorOnly = true })...)
	var token string
	for _, name := range []string{"Ada", "Grace", "Alan", "Edsger"} {
		id, tok := p.fast.signUp(t, name, name+"@example.com")
		p.ids[name] = id
		if token == "" {
			token = tok
		}
	}
	p.token = token
	ctx := context.Background()
	// Each user: 3 published posts and a draft, made a second apart; each post 4 comments by everyone, in turn.
	_, err := p.fast.pool.Exec(ctx, `INSERT INTO posts (author_id, title, content, published, published_at, created_at)
		SELECT u.id, u.name || ' ' || g, 'Content <' || g || '> & "quoted"', g < 4, CASE WHEN g < 4 THEN now() END, now() - g * interval '1 second'
		FROM users u, generate_series(1, 4) g`)
	require.NoError(t, err)
	_, err = p.fast.pool.Exec(ctx, `INSERT INTO comments (post_id, author_id, content, created_at)
		SELECT p.id, (SELECT id FROM users ORDER BY created_at OFFSET (g % 4) LIMIT 1), 'c' || g, now() + g * interval '1 second'
		FROM posts p, generate_series(1, 4) g`)
	require.NoError(t, err)
	require.NoError(t, p.fast.pool.QueryRow(ctx, `SELECT id::text FROM posts WHERE author_id = $1 AND NOT published`, p.ids["Ada"]).Scan(&p.draft))
	return p
}

// answer is a response as compared: data byte for byte, errors as a set (gqlgen reports them in the order its
// goroutines happen to end).
type answer struct {
	Data   string
	Errors []string
}

func (in *instance) answer(t *testing.T, token, query string, vars map[string]any) (answer, int64) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	var headers []string
	if token != "" {
		headers = []string{"Authorization", "Bearer " + token}
	}
	before := in.count.n.Load()
	_, _, b := in.send(t, "/graphql", string(body), headers...)
	n := in.count.n.Load() - before
	var raw struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(b, &raw), "%.300s", b)
	a := answer{Data: string(raw.Data)}
	for _, e := range raw.Errors {
		a.Errors = append(a.Errors, string(e))
	}
	sort.Strings(a.Errors)
	return a, n
}

// TestFastReadsAnswerAsGeneratedCode holds the fast path to gqlgen's generated executor: for each query, the
// same data byte for byte, the same errors (paths, locations, codes, null propagation), and no more statements
// (comments and their authors are one).
func TestFastReadsAnswerAsGeneratedCode(t *testing.T) {
	t.Parallel()
	p := setupFastPair(t)
	ada := p.ids["Ada"]
	queries := []struct {
		name  string
		query string
		vars  map[string]any
		anon  bool
	}{
		{name: "the bench query", query: `{ users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`},
		{name: "every field", query: `{ users(first: 3) { __typename edges { __typename cursor node { __typename id name email createdAt updatedAt
			posts(limit: 2) { __typename id title content published publishedAt createdAt updatedAt author { id name }
			comments(limit: 3) { __typename id content createdAt author { email posts(limit: 1) { id } } } } } }
			pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }`},
		{name: "aliases with other limits", query: `query($id: ID!) { user(id: $id) { a: posts(limit: 1) { id c: comments(limit: 2) { content } d: comments(limit: 25) { id } }
			b: posts(limit: 100) { id comments(limit: 1) { id } } } }`, vars: map[string]any{"id": ada}},
		{name: "fragments, skip and include", query: `query($no: Boolean!) { users { edges { node { ...U } } } }
			fragment U on User { id posts { ... on Post { title } comments @skip(if: $no) { id } author @include(if: $no) { id } } }`,
			vars: map[string]any{"no": true}},
		{name: "fragments, variables the other way", query: `query($no: Boolean!) { users { edges { node { ...U } } } }
			fragment U on User { id posts { ... on Post { title } comments @skip(if: $no) { id } author @include(if: $no) { id } } }`,
			vars: map[string]any{"no": false}},
		{name: "one field twice", query: `{ users(limit: 2) { edges { node { id id posts { id } posts { title } } } } }`},
		{name: "page 2", query: `{ users(page: 2, limit: 2) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`},
		{name: "cursors", query: `{ users(first: 2) { pageInfo { endCursor } edges { node { id } } } }`},
		{name: "an empty page", query: `{ users(page: 50) { edges { node { id } } pageInfo { startCursor endCursor hasPreviousPage } } }`},
		{name: "search", query: `query($s: String) { users(search: $s) { edges { node { name } } } }`, vars: map[string]any{"s": "gra"}},
		{name: "posts, drafts of the caller", query: `{ posts(limit: 100) { edges { node { title published publishedAt author { name } comments { content } } } } }`},
		{name: "posts, published only", query: `{ posts(published: true, last: 3) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage } } }`},
		{name: "another user's drafts are hidden", query: `query($id: ID!) { user(id: $id) { posts(limit: 100) { title published } } }`, vars: map[string]any{"id": p.ids["Grace"]}},
		{name: "a draft by id", query: `query($id: ID!) { post(id: $id) { title comments { author { name } } } }`, vars: map[string]any{"id": p.draft}},
		{name: "no such user", query: `query($id: ID!) { user(id: $id) { id } }`, vars: map[string]any{"id": "00000000-0000-0000-0000-000000000000"}},
		{name: "a bad id", query: `{ user(id: "nope") { id } post(id: "nope") { id } }`},
		{name: "a bad limit nulls the answer", query: `{ users(limit: 3) { edges { node { id posts(limit: 0) { id } } } } }`},
		{name: "a bad nested limit", query: `query($id: ID!) { user(id: $id) { name posts { comments(limit: 101) { id } } } }`, vars: map[string]any{"id": ada}},
		{name: "a null limit takes the default", query: `query($id: ID!) { user(id: $id) { posts(limit: null) { id } } }`, vars: map[string]any{"id": ada}},
		{name: "mixed paging", query: `{ users(first: 2, page: 2) { edges { node { id } } } }`},
		{name: "bad cursor", query: `{ posts(after: "bogus") { edges { node { id } } } }`},
		{name: "two roots", query: `{ a: users(limit: 1) { edges { node { name } } } b: posts(limit: 1) { edges { node { title } } } __typename }`},
		{name: "with what it does not answer", query: `{ users(limit: 2) { totalCount edges { node { id } } } }`},
		{name: "anonymous", query: `{ users { edges { node { id } } } }`, anon: true},
		{name: "anonymous posts", query: `{ posts { edges { node { title author { name } } } } }`, anon: true},
		{name: "anonymous comments' authors", query: `{ posts { edges { node { comments { content author { name } } } } } }`, anon: true},
	}
	for _, q := range queries {
		token := p.token
		if q.anon {
			token = ""
		}
		want, wantN := p.generated.answer(t, token, q.query, q.vars)
		got, gotN := p.fast.answer(t, token, q.query, q.vars)
		require.Equal(t, want, got, q.name)
		require.LessOrEqual(t, gotN, wantN, "%s: no more statements", q.name)
	}
}

// TestFastReadsReadCommentsWithTheirAuthors: when the selection asks for the comments' authors, a signed-in
// caller's comments and authors are one statement; the rest of the answer is the generated executor's.
func TestFastReadsReadCommentsWithTheirAuthors(t *testing.T) {
	t.Parallel()
	p := setupFastPair(t)
	const q = `{ users(limit: 20) { edges { node { posts { comments { author { id name } } } } } } }`
	want, wantN := p.generated.answer(t, p.token, q, nil)
	got, gotN := p.fast.answer(t, p.token, q, nil)
	require.Equal(t, want, got)
	t.Logf("statements: %d through the generated executor, %d through the fast path", wantN, gotN)
	require.Equal(t, wantN-1, gotN, "one statement for the comments and their authors")
	require.Contains(t, got.Data, `"name":"Grace"`)
}

// TestFastReadsFollowTheSizeCap: the fast path counts an answer's size as sizeCap does, field by field, and
// reads no further level once the cap is passed.
func TestFastReadsFollowTheSizeCap(t *testing.T) {
	t.Parallel()
	for _, limit := range []int64{1_000, 2_000, 5_000, 20_000} {
		p := setupFastPair(t, func(o *graph.Options) { o.MaxResponseBytes = limit })
		for _, q := range []string{
			`{ users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`,
			`{ posts(limit: 100) { edges { node { content comments { id content } } } } }`,
		} {
			want, wantN := p.generated.answer(t, p.token, q, nil)
			got, gotN := p.fast.answer(t, p.token, q, nil)
			require.Equal(t, want, got, "%d: %s", limit, q)
			require.LessOrEqual(t, gotN, wantN, "%d: %s: no more statements", limit, q)
		}
	}
}

// TestFastReadsRateLimit: a root field the fast path answers counts its @rateLimit action once, as before.
func TestFastReadsRateLimit(t *testing.T) {
	t.Parallel()
	p := setupFastPair(t)
	for _, in := range []*instance{p.fast, p.generated} {
		_, headers := rateLimitHeaders(t, in, p.token, `{ users(limit: 1) { edges { node { id } } } a: user(id: "`+p.ids["Ada"]+`") { id } }`)
		require.NotEmpty(t, headers, "the RateLimit fields of the answer")
	}
	fast, _ := rateLimitHeaders(t, p.fast, p.token, `{ users(limit: 1) { edges { node { id } } } }`)
	generated, _ := rateLimitHeaders(t, p.generated, p.token, `{ users(limit: 1) { edges { node { id } } } }`)
	require.Equal(t, generated, fast, "the same policy, counted once")
}

func rateLimitHeaders(t *testing.T, in *instance, token, query string) (string, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	_, h, _ := in.send(t, "/graphql", string(body), "Authorization", "Bearer "+token)
	return fmt.Sprint(h.Get("RateLimit-Policy")), h.Get("RateLimit")
}
