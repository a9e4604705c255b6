package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
)

// send posts body to path with headers as name, value pairs (JSON unless they say otherwise) and returns the raw
// answer.
func (in *instance) send(t *testing.T, path, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, in.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// post is send with the JSON answer decoded.
func (in *instance) post(t *testing.T, path, body string, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	status, h, b := in.send(t, path, body, headers...)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), "%.300s", b)
	return status, h, out
}

func gqlBody(t *testing.T, query string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	return string(b)
}

// aliased repeats a field n times under aliases a0, a1, ...
func aliased(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s\n", i, strings.ReplaceAll(field, "$i", fmt.Sprint(i)))
	}
	return b.String()
}

// TestSignInIsOneActionAtEveryEntrance: REST's token endpoint and GraphQL's login spend one budget, aliases count
// one each, and the account is counted as well as the address.
func TestSignInIsOneActionAtEveryEntrance(t *testing.T) {
	t.Parallel()
	limits := config.RateLimitConfig{Window: time.Hour, Default: 1000, ListUsers: 1000, SignUp: 1000, Login: 3, PasswordReset: 1000,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	in.ok(t, "", `mutation { createUser(input: {name: "Ada", email: "ada@example.com", password: "long enough"}) { id } }`, nil)
	in.ok(t, "", `mutation { createUser(input: {name: "Bob", email: "bob@example.com", password: "long enough"}) { id } }`, nil)
	login := func(email, pw string) string {
		return gqlBody(t, `mutation { login(email: "`+email+`", password: "`+pw+`") { accessToken } }`)
	}

	t.Run("REST guesses use up GraphQL's sign-in", func(t *testing.T) {
		ip := "X-Forwarded-For"
		for range 3 {
			status, h, _ := in.post(t, "/api/auth/token", `{"email":"nobody@example.com","password":"wrong guess"}`, ip, "203.0.113.1")
			require.Equal(t, http.StatusUnauthorized, status)
			require.Contains(t, h.Get("RateLimit-Policy"), `"login";q=3;w=3600`)
		}
		status, h, out := in.post(t, "/graphql", login("ada@example.com", "long enough"), ip, "203.0.113.1")
		require.Equal(t, http.StatusOK, status)
		require.Nil(t, out["data"], "the right password gets no token: %v", out)
		e := out["errors"].([]any)[0].(map[string]any)
		ext := e["extensions"].(map[string]any)
		require.Equal(t, "RATE_LIMITED", ext["code"])
		require.Positive(t, ext["retryAfter"])
		require.Equal(t, h.Get("Retry-After"), fmt.Sprint(ext["retryAfter"]), "the same numbers in the header and the error")
		require.Contains(t, h.Get("RateLimit"), `"login";r=0;`)
	})

	t.Run("aliased logins count one each", func(t *testing.T) {
		status, _, out := in.post(t, "/graphql", gqlBody(t, "mutation {\n"+aliased(10, `login(email: "bob@example.com", password: "wrong $i") { accessToken }`)+"}"),
			"X-Forwarded-For", "203.0.113.2")
		require.Equal(t, http.StatusOK, status)
		codes := map[string]int{}
		for _, e := range out["errors"].([]any) {
			codes[e.(map[string]any)["extensions"].(map[string]any)["code"].(string)]++
		}
		require.Equal(t, map[string]int{"UNAUTHENTICATED": 3, "RATE_LIMITED": 7}, codes)
	})

	t.Run("guesses from many addresses still slow down on one account", func(t *testing.T) {
		// Bob's account has had 3 guesses above, and takes five times a client's quota (15): 12 more from four
		// fresh addresses spend it, and a fifth address is then refused for Bob but not for Ada.
		for i := range 12 {
			status, _, _ := in.post(t, "/api/auth/token", `{"email":"bob@example.com","password":"a wrong guess"}`,
				"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i/3))
			require.Equal(t, http.StatusUnauthorized, status, "guess %d", i)
		}
		status, _, _ := in.post(t, "/api/auth/token", `{"email":"BOB@example.com","password":"long enough"}`, "X-Forwarded-For", "198.51.100.7")
		require.Equal(t, http.StatusTooManyRequests, status, "case does not make another account")
		status, _, out := in.post(t, "/graphql", login("ada@example.com", "long enough"), "X-Forwarded-For", "198.51.100.8")
		require.Equal(t, http.StatusOK, status)
		require.NotEmpty(t, get(out["data"], "login", "accessToken"))
	})
}

// TestAliasedSignUpsCountOneEach: 50 aliased createUser mutations in one request make only as many accounts (and
// welcome emails) as the sign-up limit allows.
func TestAliasedSignUpsCountOneEach(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.SignUp = 5
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	query := "mutation {\n" + aliased(50, `createUser(input: {name: "U$i", email: "u$i@example.com", password: "long enough"}) { id }`) + "}"
	status, _, out := in.post(t, "/graphql", gqlBody(t, query))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["errors"], 45)
	var users, welcomes int
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&users))
	require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = 'email'").Scan(&welcomes))
	require.Equal(t, 5, users)
	require.Equal(t, 5, welcomes)

	// REST's sign-up is the same action, already spent.
	status, _, _ = in.post(t, "/api/users", `{"name":"Late","email":"late@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusTooManyRequests, status)
}

// TestEveryQueryFieldIsLimited: reads count too (the default action), per root field.
func TestEveryQueryFieldIsLimited(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.Default = 4
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	status, h, out := in.post(t, "/graphql", gqlBody(t, "{\n"+aliased(6, `posts(limit: 1) { totalCount }`)+"}"))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["errors"], 2)
	require.Contains(t, h.Get("RateLimit-Policy"), `"default";q=4;w=60`)
}

// TestWebSocketMessagesAreActionsToo: operations sent over a WebSocket are counted by the same limits as over HTTP:
// a login mutation over the socket after REST spent the budget is refused, in the socket's own terms.
func TestWebSocketMessagesAreActionsToo(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.Login = 2
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	for range 2 {
		status, _, _ := in.post(t, "/api/auth/token", `{"email":"nobody@example.com","password":"wrong guess"}`)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	c := dialWS(t, in, "")
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `mutation { login(email: "nobody@example.com", password: "another guess") { accessToken } }`,
	}})
	msg := c.read(5 * time.Second)
	require.Equal(t, "next", msg["type"], "%v", msg)
	require.Contains(t, fmt.Sprint(msg["payload"]), "RATE_LIMITED")
}

// TestRefusedTokensSpendActions: a token refused by GraphQL's authentication spends a default action, as REST's
// does, so token guessing is limited too.
func TestRefusedTokensSpendActions(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.Default = 3
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	for range 3 {
		status, _, _ := in.post(t, "/graphql", gqlBody(t, `{ __typename }`), "Authorization", "Bearer not.a.token")
		require.Equal(t, http.StatusUnauthorized, status)
	}
	status, h, out := in.post(t, "/graphql", gqlBody(t, `{ __typename }`), "Authorization", "Bearer not.a.token")
	require.Equal(t, http.StatusTooManyRequests, status, "%v", out)
	require.NotEmpty(t, h.Get("Retry-After"))
	require.Equal(t, "RATE_LIMITED", out["errors"].([]any)[0].(map[string]any)["extensions"].(map[string]any)["code"])
}

// TestCurrentPasswordGuessesAreSignIns: an email change checks the current password, so with a stolen token it
// is a password oracle unless it is limited like a sign-in (N2 of the second review: 80 aliased updateUser
// guesses in one request, the last one right, took the account).
func TestCurrentPasswordGuessesAreSignIns(t *testing.T) {
	t.Parallel()
	limits := noLimits
	limits.Login = 3
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{limits: &limits})
	id, token := in.signUp(t, "Ada", "ada@example.com")
	query := "mutation {\n" + aliased(20, `updateUser(id: "`+id+`", input: {email: "thief$i@example.com", currentPassword: "guess $i"}) { id }`) + "}"
	status, _, out := in.post(t, "/graphql", gqlBody(t, query), "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, status)
	codes := map[string]int{}
	for _, e := range out["errors"].([]any) {
		codes[e.(map[string]any)["extensions"].(map[string]any)["code"].(string)]++
	}
	// signUp signed in once: two guesses are left of the three.
	require.Equal(t, map[string]int{"FORBIDDEN": 2, "RATE_LIMITED": 18}, codes)
	// REST's PATCH and PUT name the same action (impl/httpapi TestEveryOperationNamesItsAction).
}

// TestImpossibleEmailsAreUnknownAccounts: a NUL or broken UTF-8 in a sign-in or reset email is an unknown
// account at every entrance, never a 500 (N3 of the second review: PostgreSQL refused the comparison).
func TestImpossibleEmailsAreUnknownAccounts(t *testing.T) {
	t.Parallel()
	in := setup(t)
	for _, email := range []string{`z\u0000@example.com`, "z\xff\xfe@example.com"} {
		status, _, _ := in.post(t, "/api/auth/token", `{"email":"`+email+`","password":"long enough"}`)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnauthorized}, status, "%q", email)
		status, _, _ = in.post(t, "/api/auth/password-reset", `{"email":"`+email+`"}`)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusAccepted}, status, "%q", email)
	}
	status, _, out := in.post(t, "/graphql", `{"query":"mutation { login(email: \"z\\u0000@example.com\", password: \"long enough\") { accessToken } }"}`)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "UNAUTHENTICATED", out["errors"].([]any)[0].(map[string]any)["extensions"].(map[string]any)["code"], "%v", out)
}
