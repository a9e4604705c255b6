package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestQueriesAndMutations(t *testing.T) {
	t.Parallel()
	in := setup(t)
	ada, adaToken := in.signUp(t, "Ada", "ada@example.com")
	_, graceToken := in.signUp(t, "Grace", "grace@example.com")

	var jobs int
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'email'").Scan(&jobs))
	require.Equal(t, 2, jobs, "a user created through GraphQL gets the welcome email too")

	// Writes need a user.
	r := in.do(t, "", `mutation { createPost(input: {title: "T", content: "C"}) { id } }`, nil)
	require.Equal(t, "UNAUTHENTICATED", r.code())

	d := in.ok(t, adaToken, `mutation { createPost(input: {title: "Draft", content: "Body"}) { id published author { name } } }`, nil)
	postID := get(d, "createPost", "id").(string)
	require.Equal(t, false, get(d, "createPost", "published"))
	require.Equal(t, "Ada", get(d, "createPost", "author", "name"))

	// Drafts are the author's alone.
	require.Nil(t, in.ok(t, graceToken, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": postID})["post"])
	r = in.do(t, graceToken, `mutation($id: ID!) { publishPost(id: $id) { id } }`, map[string]any{"id": postID})
	require.Equal(t, "NOT_FOUND", r.code())

	d = in.ok(t, adaToken, `mutation($id: ID!) { publishPost(id: $id) { published publishedAt } }`, map[string]any{"id": postID})
	require.Equal(t, true, get(d, "publishPost", "published"))
	r = in.do(t, graceToken, `mutation($id: ID!) { publishPost(id: $id) { id } }`, map[string]any{"id": postID})
	require.Equal(t, "FORBIDDEN", r.code())

	d = in.ok(t, graceToken, `mutation($p: ID!) { createComment(input: {postId: $p, content: "Nice"}) { content author { name } post { id } } }`,
		map[string]any{"p": postID})
	require.Equal(t, "Grace", get(d, "createComment", "author", "name"))
	require.Equal(t, postID, get(d, "createComment", "post", "id"))

	d = in.ok(t, adaToken, `query($id: ID!) { post(id: $id) { title comments { content author { email } } } user(id: "`+ada+`") { name posts { id } } }`,
		map[string]any{"id": postID})
	require.Equal(t, "Nice", get(d, "post", "comments").([]any)[0].(map[string]any)["content"])
	require.Len(t, get(d, "user", "posts"), 1)

	// Users can read users only when signed in, and change only themselves.
	r = in.do(t, "", `query { users { totalCount } }`, nil)
	require.Equal(t, "UNAUTHENTICATED", r.code())
	r = in.do(t, graceToken, `mutation($id: ID!) { updateUser(id: $id, input: {name: "X"}) { id } }`, map[string]any{"id": ada})
	require.Equal(t, "FORBIDDEN", r.code())
	d = in.ok(t, adaToken, `mutation($id: ID!) { updateUser(id: $id, input: {name: "Ada King"}) { name } }`, map[string]any{"id": ada})
	require.Equal(t, "Ada King", get(d, "updateUser", "name"))
	require.Nil(t, in.ok(t, adaToken, `query { user(id: "`+uuid.NewString()+`") { id } }`, nil)["user"])

	// Bad input is BAD_USER_INPUT, with the fields named.
	r = in.do(t, "", `mutation { createUser(input: {name: "", email: "nope", password: "short"}) { id } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", r.code())
	fields := r.Errors[0].Extensions["fields"].(map[string]any)
	require.Contains(t, fields, "email")
	require.Contains(t, fields, "password")
	r = in.do(t, adaToken, `query { user(id: "not-a-uuid") { id } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", r.code())
	r = in.do(t, adaToken, `query { user(id: 1, nope: 2) { id } }`, nil)
	require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.code())
	r = in.do(t, "", `mutation { login(email: "ada@example.com", password: "wrong") { accessToken } }`, nil)
	require.Equal(t, "UNAUTHENTICATED", r.code())
	r = in.do(t, "not-a-token", `query { posts { totalCount } }`, nil)
	require.Equal(t, 401, r.status)
	require.Equal(t, "UNAUTHENTICATED", r.code())

	d = in.ok(t, adaToken, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": ada})
	require.Equal(t, true, d["deleteUser"])
	require.Equal(t, 401, in.do(t, adaToken, `query { posts { totalCount } }`, nil).status, "a deleted user's token stops working")
}

func TestPaging(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Reader", "reader@example.com")
	for i := range 6 {
		in.signUp(t, fmt.Sprintf("User %d", i), fmt.Sprintf("u%d@example.com", i))
	}
	// Everyone, newest first, in one page: the reference order.
	all := in.ok(t, token, `query { users(first: 100) { totalCount edges { node { id } } } }`, nil)
	require.EqualValues(t, 7, get(all, "users", "totalCount"))
	var want []string
	for _, e := range get(all, "users", "edges").([]any) {
		want = append(want, get(e, "node", "id").(string))
	}

	type page struct {
		ids        []string
		next, prev bool
		start, end string
	}
	fetch := func(args string) page {
		d := in.ok(t, token, `query { users(`+args+`) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`, nil)
		var p page
		for _, e := range get(d, "users", "edges").([]any) {
			p.ids = append(p.ids, get(e, "node", "id").(string))
		}
		pi := get(d, "users", "pageInfo").(map[string]any)
		p.next, p.prev = pi["hasNextPage"].(bool), pi["hasPreviousPage"].(bool)
		if len(p.ids) > 0 {
			p.start, p.end = pi["startCursor"].(string), pi["endCursor"].(string)
		}
		return p
	}

	// Forwards, three at a time.
	var got []string
	p := fetch(`first: 3`)
	require.False(t, p.prev)
	for {
		got = append(got, p.ids...)
		if !p.next {
			break
		}
		p = fetch(fmt.Sprintf(`first: 3, after: %q`, p.end))
		require.True(t, p.prev)
	}
	require.Equal(t, want, got)

	// Backwards from the end, three at a time.
	got = nil
	p = fetch(`last: 3`)
	require.False(t, p.next)
	for {
		got = append(p.ids, got...)
		if !p.prev {
			break
		}
		p = fetch(fmt.Sprintf(`last: 3, before: %q`, p.start))
		require.True(t, p.next)
	}
	require.Equal(t, want, got)

	// page/limit paging sees the same order.
	got = nil
	for pg := 1; pg <= 3; pg++ {
		d := in.ok(t, token, fmt.Sprintf(`query { users(page: %d, limit: 3) { edges { node { id } } pageInfo { hasNextPage } } }`, pg), nil)
		for _, e := range get(d, "users", "edges").([]any) {
			got = append(got, get(e, "node", "id").(string))
		}
		require.Equal(t, pg < 3, get(d, "users", "pageInfo", "hasNextPage"))
	}
	require.Equal(t, want, got)

	for _, bad := range []string{`first: 3, page: 2`, `first: 0`, `first: 101`, `first: 1, last: 1`, `after: "bogus"`, `before: "` + strings.Repeat("x", 200) + `"`} {
		r := in.do(t, token, `query { users(`+bad+`) { edges { cursor } } }`, nil)
		require.Equal(t, "BAD_USER_INPUT", r.code(), bad)
	}

	// Posts page the same way, drafts only for their author.
	for i := range 4 {
		in.ok(t, token, fmt.Sprintf(`mutation { createPost(input: {title: "P%d", content: "C", published: %v}) { id } }`, i, i != 0), nil)
	}
	d := in.ok(t, "", `query { posts(first: 2) { totalCount edges { node { title } } pageInfo { hasNextPage endCursor } } }`, nil)
	require.EqualValues(t, 3, get(d, "posts", "totalCount"), "anonymous callers do not see the draft")
	d2 := in.ok(t, "", fmt.Sprintf(`query { posts(first: 2, after: %q) { edges { node { title } } pageInfo { hasNextPage } } }`, get(d, "posts", "pageInfo", "endCursor")), nil)
	require.Len(t, get(d2, "posts", "edges"), 1)
	require.Equal(t, false, get(d2, "posts", "pageInfo", "hasNextPage"))
	d = in.ok(t, token, `query { posts(published: false) { totalCount } }`, nil)
	require.EqualValues(t, 1, get(d, "posts", "totalCount"))
}

// TestNestedQueryCostsTheSameStatements proves the batching: the statements for users → posts → comments →
// author do not grow with the number of users, of their posts or of the posts' comments.
func TestNestedQueryCostsTheSameStatements(t *testing.T) {
	t.Parallel()
	const query = `query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`
	count := func(users, posts, comments int) int64 {
		in := setup(t)
		var token string
		for i := range users {
			_, token = in.signUp(t, fmt.Sprintf("U%d", i), fmt.Sprintf("u%d@example.com", i))
		}
		ctx := context.Background()
		_, err := in.pool.Exec(ctx, `INSERT INTO posts (author_id, title, content, published, published_at)
			SELECT u.id, 'P' || g, 'C', true, now() FROM users u, generate_series(1, $1::int) g`, posts)
		require.NoError(t, err)
		// Each comment by another user than the last one's, so that the authors are many.
		_, err = in.pool.Exec(ctx, `INSERT INTO comments (post_id, author_id, content)
			SELECT p.id, (SELECT id FROM users ORDER BY md5(p.id::text || g) LIMIT 1), 'c' FROM posts p, generate_series(1, $1::int) g`, comments)
		require.NoError(t, err)
		before := in.count.n.Load()
		d := in.ok(t, token, query, nil)
		require.Len(t, get(d, "users", "edges"), users)
		n := 0
		for _, e := range get(d, "users", "edges").([]any) {
			for _, p := range get(e, "node", "posts").([]any) {
				n += len(get(p, "comments").([]any))
			}
		}
		require.Equal(t, users*posts*comments, n)
		return in.count.n.Load() - before
	}
	small, large := count(2, 1, 1), count(20, 5, 5)
	require.Equal(t, small, large, "the statement count does not depend on the number of users, posts or comments")
	require.LessOrEqual(t, large, int64(5))
}

func TestLimits(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	deep := `query { users { edges { node { posts { author { posts { author { posts { author { id } } } } } } } } } }`
	r := in.do(t, token, deep, nil)
	require.Equal(t, "BAD_USER_INPUT", r.code())
	require.Contains(t, r.Errors[0].Message, "levels deep")

	// Aliases add up: each of these costs 301, 200 of them more than 50,000.
	wide := `query { `
	for i := range 200 {
		wide += fmt.Sprintf(`p%d: posts(first: 100) { edges { node { id } } } `, i)
	}
	wide += `}`
	r = in.do(t, token, wide, nil)
	require.Equal(t, "QUERY_TOO_COMPLEX", r.code(), "%+v", r.Errors)

	huge := `query { posts { totalCount } } # ` + strings.Repeat("x", 20<<10)
	r = in.do(t, token, huge, nil)
	require.NotEmpty(t, r.Errors, "a body over the limit is refused")

	d := in.ok(t, "", `query { __schema { queryType { name } } }`, nil)
	require.Equal(t, "Query", get(d, "__schema", "queryType", "name"), "introspection is on by default")

	// GraphiQL's introspection nests ofType far deeper than the data limit: the limit is for data, not for it.
	typeRef := `kind name`
	for range 8 {
		typeRef = `kind name ofType { ` + typeRef + ` }`
	}
	d = in.ok(t, "", `query { __schema { types { name fields { name type { `+typeRef+` } } } } }`, nil)
	require.NotEmpty(t, get(d, "__schema", "types"))
}
