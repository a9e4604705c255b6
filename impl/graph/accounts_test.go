package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const updateUser = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { email } }`

// TestUpdateUserNeedsTheCurrentPassword: over GraphQL as over REST, a token alone cannot change the email or the
// password: BAD_USER_INPUT without currentPassword, FORBIDDEN with a wrong one, both naming the field.
func TestUpdateUserNeedsTheCurrentPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    map[string]any
		code  string
		field string
		email string // the address afterwards
	}{
		{"email without", map[string]any{"email": "new@example.com"}, "BAD_USER_INPUT", "currentPassword", "ada@example.com"},
		{"email with a wrong one", map[string]any{"email": "new@example.com", "currentPassword": "wrong password"}, "FORBIDDEN", "currentPassword", "ada@example.com"},
		{"email with the right one", map[string]any{"email": "new@example.com", "currentPassword": "long enough"}, "", "", "new@example.com"},
		{"password without", map[string]any{"password": "a new password"}, "BAD_USER_INPUT", "currentPassword", "ada@example.com"},
		{"password with a wrong one", map[string]any{"password": "a new password", "currentPassword": "wrong password"}, "FORBIDDEN", "currentPassword", "ada@example.com"},
		{"name alone", map[string]any{"name": "Ada King"}, "", "", "ada@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := setup(t)
			ada, token := in.signUp(t, "Ada", "ada@example.com")
			r := in.do(t, token, updateUser, map[string]any{"id": ada, "in": tt.in})
			require.Equal(t, tt.code, r.code(), "%+v", r.Errors)
			if tt.field != "" {
				require.Contains(t, r.Errors[0].Extensions["fields"], tt.field)
			} else {
				require.Equal(t, tt.email, get(r.Data, "updateUser", "email"))
			}
			var email string
			var notices int
			require.NoError(t, in.pool.QueryRow(context.Background(), "SELECT email FROM users WHERE id = $1", ada).Scan(&email))
			require.Equal(t, tt.email, email)
			require.NoError(t, in.pool.QueryRow(context.Background(),
				"SELECT count(*) FROM river_job WHERE args->>'type' = 'email-changed' AND args->>'to' = 'ada@example.com'").Scan(&notices))
			if tt.email == "new@example.com" {
				require.Equal(t, 1, notices, "the old address is told")
			} else {
				require.Zero(t, notices)
			}
		})
	}
}

// TestPasswordChangeOverGraphQLEndsSessions: a password changed through updateUser ends the sessions from before.
func TestPasswordChangeOverGraphQLEndsSessions(t *testing.T) {
	t.Parallel()
	in := setup(t)
	ada, token := in.signUp(t, "Ada", "ada@example.com")
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the change comes in a later one
	in.ok(t, token, updateUser, map[string]any{"id": ada, "in": map[string]any{"password": "a new password", "currentPassword": "long enough"}})
	require.Equal(t, 401, in.do(t, token, `query { posts { totalCount } }`, nil).status, "the session from before ended")
	r := in.do(t, "", `mutation { login(email: "ada@example.com", password: "long enough") { accessToken } }`, nil)
	require.Equal(t, "UNAUTHENTICATED", r.code())
	d := in.ok(t, "", `mutation { login(email: "ada@example.com", password: "a new password") { accessToken } }`, nil)
	require.Equal(t, 200, in.do(t, get(d, "login", "accessToken").(string), `query { posts { totalCount } }`, nil).status)
}

// TestLoginAnswerIsNotStored: GraphQL's answers say Cache-Control: no-store, as REST's token answer does, since
// one can carry a token (login).
func TestLoginAnswerIsNotStored(t *testing.T) {
	t.Parallel()
	in := setup(t)
	in.signUp(t, "Ada", "ada@example.com")
	body := `{"query":"mutation { login(email: \"ada@example.com\", password: \"long enough\") { accessToken } }"}`
	resp, err := http.Post(in.url+"/graphql", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}
