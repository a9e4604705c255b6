package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

func decode(t *testing.T, body string) gqlResponse {
	t.Helper()
	var r gqlResponse
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r
}

// TestBodyIsNeverEchoed: a body that is not one operation (a batch array, a query that is not a string, broken
// JSON) is refused with 400 and a message that repeats nothing of it, the password least of all.
func TestBodyIsNeverEchoed(t *testing.T) {
	t.Parallel()
	in := setup(t)
	const secret = "hunter2-correct-horse"
	signUp := `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`
	vars := `{"in": {"name": "Ada", "email": "ada@example.com", "password": "` + secret + `"}}`
	tests := []struct {
		name string
		body string
		want string
	}{
		{"a batch array", `[{"query": "` + signUp + `", "variables": ` + vars + `}, {"query": "{ __typename }"}]`, "Batched operations"},
		{"a batch array after blanks", " \n\t[{\"query\": \"{ __typename }\", \"variables\": " + vars + "}]", "Batched operations"},
		{"a query that is a number", `{"query": 5, "variables": ` + vars + `}`, "query has the wrong type"},
		{"variables that are a string", `{"query": "` + signUp + `", "variables": "` + secret + `"}`, "variables has the wrong type"},
		{"broken JSON", `{"query": "` + signUp + `", "variables": ` + vars + `, ` + secret + `}`, "not valid JSON"},
		{"a bare string", `"` + secret + `"`, "not a GraphQL request"},
		{"empty", ``, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := post(t, in, "", tt.body)
			require.Equal(t, http.StatusBadRequest, resp.status, resp.body)
			require.NotContains(t, resp.body, secret)
			require.NotContains(t, resp.body, "createUser")
			r := decode(t, resp.body)
			require.Equal(t, "BAD_USER_INPUT", r.code())
			require.Contains(t, r.Errors[0].Message, tt.want)
		})
	}
	var users int
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&users))
	require.Zero(t, users, "no part of a refused batch ran")
}

// TestInvalidTextRefused: invalid UTF-8 and lone UTF-16 surrogates, in variables or in the query's strings, are
// refused with BAD_USER_INPUT instead of being stored as U+FFFD; well-formed text, surrogate pairs and escaped
// backslashes included, is kept exactly.
func TestInvalidTextRefused(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	body := func(title string) string {
		return `{"query": "mutation($t: String!) { createPost(input: {title: $t, content: \"C\"}) { title } }", "variables": {"t": "` + title + `"}}`
	}
	refused := []struct{ name, body string }{
		{"invalid UTF-8 in a variable", body("Caf\xe9")},
		{"a truncated sequence", body("\xe2\x82")},
		{"an encoded surrogate", body("\xed\xa0\x80")},
		{"a lone high surrogate escape", body(`\ud800`)},
		{"a lone low surrogate escape", body(`x\udc00y`)},
		{"a high surrogate and no low one", body(`\ud83d\u0041`)},
		{"invalid UTF-8 in the query", `{"query": "{ users(search: \"\xff\") { totalCount } }"}`},
		{"a lone surrogate escape in the query's string", `{"query": "{ users(search: \"\\ud800\") { totalCount } }"}`},
		{"a lone surrogate in a mutation literal", `{"query": "mutation { createPost(input: {title: \"a\\udfffb\", content: \"C\"}) { id } }"}`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := post(t, in, token, tt.body)
			r := decode(t, resp.body)
			require.Equal(t, "BAD_USER_INPUT", r.code(), resp.body)
			require.Nil(t, r.Data["createPost"])
		})
	}
	var stored int
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM posts").Scan(&stored))
	require.Zero(t, stored, "nothing refused was stored")

	kept := []struct{ name, body, want string }{
		{"a surrogate pair escape", body(`smile \ud83d\ude00`), "smile 😀"},
		{"UTF-8 as is", body("Café 😀"), "Café 😀"},
		{"U+FFFD itself", body(`\ufffd`), "\ufffd"},
		{"an escaped backslash before u", body(`\\ud800`), `\ud800`},
		{"a surrogate pair in the query's string", `{"query": "mutation { createPost(input: {title: \"\\ud83d\\ude00\", content: \"C\"}) { title } }"}`, "😀"},
		{"escapes mean nothing in a block string", `{"query": "mutation { createPost(input: {title: \"\"\"\\ud800\"\"\", content: \"C\"}) { title } } # \\udc00"}`, `\ud800`},
	}
	for _, tt := range kept {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := post(t, in, token, tt.body)
			r := decode(t, resp.body)
			require.Empty(t, r.Errors, resp.body)
			require.Equal(t, tt.want, get(r.Data, "createPost", "title"))
		})
	}
}

// TestInvalidTextRefusedOverWebSocket: a WebSocket message that is not valid UTF-8 closes the connection with
// 1007, as RFC 6455 has it, before gqlgen's decoder could turn it into U+FFFD.
func TestInvalidTextRefusedOverWebSocket(t *testing.T) {
	t.Parallel()
	in := setup(t)
	for _, msg := range []string{
		"{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"subscription { commentAdded(postId: \\\"\xff\\\") { id } }\"}}",
		`{"id":"1","type":"subscribe","payload":{"query":"subscription($p: ID!) { commentAdded(postId: $p) { id } }","variables":{"p":"\ud800"}}}`,
	} {
		c := dialWS(t, in, "")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, c.conn.Write(ctx, websocket.MessageText, []byte(msg)))
		_, _, err := c.conn.Read(ctx)
		cancel()
		var closeErr websocket.CloseError
		require.True(t, errors.As(err, &closeErr), "%v", err)
		require.EqualValues(t, 1007, closeErr.Code)
		require.True(t, strings.HasPrefix(closeErr.Reason, "the message "), closeErr.Reason)
	}
}
