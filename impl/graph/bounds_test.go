package graph_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/graph"
)

// The attacks on the document itself (F1 to F4 of the outside review), each with what it once cost.
func introspectionAliases(n int) string { // F1: 62 KB at 3,000, 6-8 s and 28 MB each
	const frag = `fragment F on __Schema{types{name kind description fields(includeDeprecated:true){name description isDeprecated args{name description defaultValue type{name kind ofType{name kind ofType{name kind ofType{name}}}}} type{name kind ofType{name kind ofType{name kind ofType{name}}}}}}}`
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, "a%d:__schema{...F} ", i)
	}
	return b.String() + "} " + frag
}

func typenames(n int) string { return "{" + strings.Repeat("__typename ", n) + "}" } // F2: 3.4 s at 5,890

func samePosts(n int) string { return "query{" + strings.Repeat("posts{edges{node{id}}} ", n) + "}" } // F2: 4.5 s at 2,700

func conflicts(n int) string { // F3: 166 MB of errors at 1,600
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i%2 == 0 {
			b.WriteString("a:posts{totalCount} ")
		} else {
			b.WriteString("a:__typename ")
		}
	}
	return b.String() + "}"
}

func fragmentBomb(k int) string { // F4: 55 s of CPU at 28
	var b strings.Builder
	b.WriteString("{...F0} ")
	for i := range k - 1 {
		fmt.Fprintf(&b, "fragment F%d on Query{...F%d ...F%d} ", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query{__typename}", k-1)
	return b.String()
}

// graphiQLIntrospection is the query GraphiQL sends to load the schema (graphql-js' getIntrospectionQuery, as
// the embedded graphiql.min.js builds it), with every option on.
const graphiQLIntrospection = `
query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// TestHostileDocumentsRefusedQuickly: each attack on the document is refused in a small answer, in well under a
// second, before validation's pairwise work or any walk of its fragments; and a fair query still runs.
func TestHostileDocumentsRefusedQuickly(t *testing.T) {
	t.Parallel()
	in := setup(t, func(o *graph.Options) { o.BodyLimit = 1 << 20; o.MaxDepth = 10 })
	_, token := in.signUp(t, "Ada", "ada@example.com")
	for _, tc := range []struct {
		name, query, code string
	}{
		{"F1 introspection aliases", introspectionAliases(3000), "QUERY_TOO_LARGE"},
		{"F1 four introspection roots", introspectionAliases(4), "QUERY_TOO_LARGE"},
		{"F2 __typename x5890", typenames(5890), "QUERY_TOO_LARGE"},
		{"F2 __typename x4000, under the token limit", typenames(4000), "QUERY_TOO_LARGE"},
		{"F2 one list field x2700", samePosts(2700), "QUERY_TOO_LARGE"},
		{"F2 one list field x500", samePosts(500), "QUERY_TOO_LARGE"},
		{"F3 conflicting aliases x1600", conflicts(1600), "QUERY_TOO_LARGE"},
		{"F3 conflicting aliases x300", conflicts(300), "QUERY_TOO_LARGE"},
		{"F4 fragment bomb k=28", fragmentBomb(28), "QUERY_TOO_LARGE"},
		{"F4 fragment bomb k=60", fragmentBomb(60), "QUERY_TOO_LARGE"},
		{"many distinct aliases", "{" + aliased(2400, "__typename") + "}", "QUERY_TOO_LARGE"},
		// N1 of the second review: __typename is answered outside the size cap, and its alias is repeated for
		// every item of the lists around it (806 KB once answered 215 MB).
		{"N1 aliases of __typename under a list", "{posts(limit: 100) { edges { node { ...G } } } } fragment G on Post {" +
			aliased(17, "__typename") + "}", "QUERY_TOO_LARGE"},
		{"N1 long aliases", "{posts(limit: 100) { edges { node { " + strings.Repeat("a", 65) + ": __typename } } } }", "QUERY_TOO_LARGE"},
		{"N1 through introspection", "{__schema { types { fields { ...G } } } } fragment G on __Field {" +
			aliased(17, "__typename") + "}", "QUERY_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			status, body := rawPost(t, in.url, "application/json", gqlBody(t, tc.query))
			took := time.Since(start)
			var r gqlResponse
			require.NoError(t, json.Unmarshal(body, &r), "%.300s", body)
			require.Equal(t, tc.code, r.code(), "%.300s", body)
			require.Equal(t, http.StatusOK, status)
			require.Less(t, len(body), 1<<10, "the refusal is one short error")
			require.Less(t, took, time.Second, "refused before any quadratic or exponential work")
			t.Logf("%d bytes of query: %s in %v", len(tc.query), tc.code, took.Round(time.Millisecond))
		})
	}

	t.Run("GraphiQL's introspection", func(t *testing.T) {
		t.Parallel()
		d := in.ok(t, "", graphiQLIntrospection, nil)
		require.Equal(t, "Query", get(d, "__schema", "queryType", "name"))
		require.NotEmpty(t, get(d, "__schema", "types"))
	})
	t.Run("the README's nested query", func(t *testing.T) {
		t.Parallel()
		d := in.ok(t, token, `query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`, nil)
		require.NotEmpty(t, get(d, "users", "edges"))
	})
	t.Run("a name repeated within the bound", func(t *testing.T) {
		t.Parallel()
		in.ok(t, "", "{"+strings.Repeat("__typename ", 16)+"}", nil)
		in.ok(t, "", "{"+aliased(16, "__typename")+" "+strings.Repeat("a", 64)+": posts { totalCount } }", nil)
	})
	t.Run("an operationName is not repeated back", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"SECRETMARK", strings.Repeat("x", 65)} {
			_, body := rawPost(t, in.url, "application/json", `{"query":"query A { __typename }","operationName":"`+name+`"}`)
			require.NotContains(t, string(body), name[:10])
		}
	})
}

// TestHostileDocumentsOverWebSocket: the same bounds hold for an operation sent over a WebSocket, where a 6.6 KB
// message of conflicting aliases once answered 10 MB.
func TestHostileDocumentsOverWebSocket(t *testing.T) {
	t.Parallel()
	in := setup(t, func(o *graph.Options) { o.BodyLimit = 1 << 20 })
	c := dialWS(t, in, "")
	for i, q := range []string{conflicts(400), typenames(5890), fragmentBomb(40)} {
		c.send(map[string]any{"id": fmt.Sprint(i), "type": "subscribe", "payload": map[string]any{"query": q}})
		msg := c.read(2 * time.Second)
		require.Equal(t, "next", msg["type"], "%.300v", msg)
		require.Equal(t, "complete", c.read(2 * time.Second)["type"])
		b, err := json.Marshal(msg)
		require.NoError(t, err)
		require.Less(t, len(b), 1<<10, "%.300s", b)
		require.Contains(t, string(b), "QUERY_TOO_LARGE")
	}
}

// TestErrorsAreCapped: an answer of many errors (here 60 missing posts) carries at most 50, the last saying how
// many were left out.
func TestErrorsAreCapped(t *testing.T) {
	t.Parallel()
	in := setup(t)
	r := in.do(t, "", "{"+aliased(60, `post(id: "not a uuid $i") { id }`)+"}", nil)
	require.Len(t, r.Errors, 50)
	last := r.Errors[49]
	require.Equal(t, "TOO_MANY_ERRORS", last.Extensions["code"], "%+v", last)
	require.EqualValues(t, 11, last.Extensions["omitted"])
}

// TestIntrospectionSpendsRateLimitActions: each introspection root field is one `default` action, so no
// operation is free; a fourth {__typename} with a quota of 3 is refused.
func TestIntrospectionSpendsRateLimitActions(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.Default = 3
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	status, h, _ := in.post(t, "/graphql", gqlBody(t, `{ __typename }`))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, h.Get("RateLimit-Policy"), `"default";q=3;w=60`)
	require.Contains(t, h.Get("RateLimit"), "r=2")
	_, _, out := in.post(t, "/graphql", gqlBody(t, `{ a: __typename b: __schema { queryType { name } } }`))
	require.Nil(t, out["errors"], "two actions, the quota's last two")
	r := in.do(t, "", `{ __typename }`, nil)
	require.Equal(t, "RATE_LIMITED", r.code(), "%+v", r)
}

// TestErrorsNeverEchoTheClientsValues: a literal of the wrong type (a password given unquoted), a key a
// variable's type does not have, a variable's wrong enum-like value and a token the parser refuses are named by
// their argument or variable, never quoted.
func TestErrorsNeverEchoTheClientsValues(t *testing.T) {
	t.Parallel()
	in := setup(t)
	const secret = "SECRETPW123"
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		says        string
	}{
		{"unquoted literal", `mutation { login(email: "a@example.com", password: SECRETPW123) { accessToken } }`, nil,
			`argument "password" of field "login" is not a valid String! value`},
		{"number for a string", `mutation { login(email: "a@example.com", password: 123456789) { accessToken } }`, nil,
			`argument "password" of field "login"`},
		{"unknown key in a literal object", `mutation { createUser(input: {name: "A", email: "a@example.com", password: "long enough", SECRETPW123: 1}) { id } }`, nil,
			`has a field that CreateUserInput does not define`},
		{"unknown key in a variable", `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": "A", "email": "a@example.com", "password": "long enough", secret: 1}},
			`variable "$in" is not a valid CreateUserInput! value`},
		{"wrong type in a variable", `mutation($p: String!) { login(email: "a@example.com", password: $p) { accessToken } }`,
			map[string]any{"p": map[string]any{secret: secret}}, `variable "$p" is not a valid String! value`},
		{"parse error", `mutation { login(email: "a@example.com" "SECRETPW123") { accessToken } }`, nil, `found String`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, err := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
			require.NoError(t, err)
			_, answer := rawPost(t, in.url, "application/json", string(body))
			require.NotContains(t, string(answer), secret)
			require.NotContains(t, string(answer), "123456789")
			var r gqlResponse
			require.NoError(t, json.Unmarshal(answer, &r))
			require.Len(t, r.Errors, 1)
			require.Contains(t, r.Errors[0].Message, tc.says)
			require.NotEmpty(t, r.code())
		})
	}
}

// TestUnsupportedTransports: what no transport takes answers in the error envelope with a code, 405 (with
// Allow) for another method and 415 for a POST that is not JSON.
func TestUnsupportedTransports(t *testing.T) {
	t.Parallel()
	in := setup(t)
	for _, tc := range []struct {
		method, contentType string
		status              int
	}{
		{http.MethodPut, "application/json", http.StatusMethodNotAllowed},
		{http.MethodDelete, "", http.StatusMethodNotAllowed},
		{http.MethodPatch, "application/json", http.StatusMethodNotAllowed},
		{http.MethodPost, "text/plain", http.StatusUnsupportedMediaType},
		{http.MethodPost, "application/graphql", http.StatusUnsupportedMediaType},
		{http.MethodPost, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{http.MethodPost, "", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.method+" "+tc.contentType, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, in.url+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
			require.NoError(t, err)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.status == http.StatusMethodNotAllowed {
				require.Equal(t, "GET, POST, OPTIONS", resp.Header.Get("Allow"))
			}
			var r gqlResponse
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
			require.Equal(t, "BAD_REQUEST", r.code())
		})
	}
}

// rawPost sends body as contentType and returns the status and the raw answer.
func rawPost(t *testing.T, url, contentType, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/graphql", contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}
