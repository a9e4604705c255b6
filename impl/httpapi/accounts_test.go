package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChangingEmailOrPasswordNeedsTheCurrentPassword: a bearer token alone cannot move an account to another
// address or change its password, through PATCH or PUT; a name alone needs no password.
func TestChangingEmailOrPasswordNeedsTheCurrentPassword(t *testing.T) {
	t.Parallel()
	const pw = `"currentPassword":"` + testPassword + `"`
	tests := []struct {
		name   string
		method string
		body   string
		status int
		field  string // in errors
		email  string // the address afterwards
	}{
		{"patch email without", http.MethodPatch, `{"email":"new@example.com"}`, http.StatusBadRequest, "currentPassword", "ada@example.com"},
		{"patch email with a wrong one", http.MethodPatch, `{"email":"new@example.com","currentPassword":"wrong password"}`, http.StatusForbidden, "currentPassword", "ada@example.com"},
		{"patch email with an empty one", http.MethodPatch, `{"email":"new@example.com","currentPassword":""}`, http.StatusBadRequest, "currentPassword", "ada@example.com"},
		{"patch email with the right one", http.MethodPatch, `{"email":"new@example.com",` + pw + `}`, http.StatusOK, "", "new@example.com"},
		{"put email without", http.MethodPut, `{"name":"Ada","email":"new@example.com"}`, http.StatusBadRequest, "currentPassword", "ada@example.com"},
		{"put email with a wrong one", http.MethodPut, `{"name":"Ada","email":"new@example.com","currentPassword":"wrong password"}`, http.StatusForbidden, "currentPassword", "ada@example.com"},
		{"put email with the right one", http.MethodPut, `{"name":"Ada","email":"new@example.com",` + pw + `}`, http.StatusOK, "", "new@example.com"},
		{"put the same email", http.MethodPut, `{"name":"Ada King","email":"ADA@example.com"}`, http.StatusOK, "", "ADA@example.com"},
		{"patch password without", http.MethodPatch, `{"password":"a new password"}`, http.StatusBadRequest, "currentPassword", "ada@example.com"},
		{"patch password with a wrong one", http.MethodPatch, `{"password":"a new password","currentPassword":"wrong password"}`, http.StatusForbidden, "currentPassword", "ada@example.com"},
		{"patch a short password", http.MethodPatch, `{"password":"short",` + pw + `}`, http.StatusBadRequest, "password", "ada@example.com"},
		{"patch name only", http.MethodPatch, `{"name":"Ada King"}`, http.StatusOK, "", "ada@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			u, token := b.signUp("Ada", "ada@example.com")
			r := b.doJSON(tt.method, "/api/users/"+u.Id.String(), tt.body, withToken(token)...)
			require.Equal(t, tt.status, r.status, string(r.body))
			if tt.field != "" {
				e := r.envelope(t)
				require.NotNil(t, e.Errors, string(r.body))
				require.Contains(t, *e.Errors, tt.field, string(r.body))
			}
			var email string
			require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT email FROM users WHERE id = $1", u.Id).Scan(&email))
			require.Equal(t, tt.email, email)

			// A changed address is told at the old one, in a job committed with the change; nothing else is.
			var notices []string
			rows, err := b.pool.Query(context.Background(), "SELECT args->>'to' || ' ' || (args->>'type') FROM river_job WHERE kind = 'email' AND args->>'type' <> 'welcome'")
			require.NoError(t, err)
			for rows.Next() {
				var n string
				require.NoError(t, rows.Scan(&n))
				notices = append(notices, n)
			}
			require.NoError(t, rows.Err())
			if tt.email == "new@example.com" {
				require.Equal(t, []string{"ada@example.com email-changed"}, notices)
			} else {
				require.Empty(t, notices)
			}
		})
	}
}

// TestPasswordChangeOverRESTEndsEverySession: after a password change, every token issued before it is refused,
// the one that made the change included; the new password signs in and the old one does not.
func TestPasswordChangeOverRESTEndsEverySession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, changer := b.signUp("Ada", "ada@example.com")
	other := b.login("ada@example.com", testPassword) // another device
	path := "/api/users/" + u.Id.String()
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, path, "", "", withToken(other)...).status)

	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the change comes in a later one
	r := b.doJSON(http.MethodPatch, path, `{"password":"a brand new password","currentPassword":"`+testPassword+`"}`, withToken(changer)...)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotContains(t, string(r.body), "a brand new password")

	for _, tok := range []string{other, changer} {
		r := b.do(http.MethodGet, path, "", "", withToken(tok)...)
		require.Equal(t, http.StatusUnauthorized, r.status, "a session from before the change")
	}
	fresh := b.login("ada@example.com", "a brand new password")
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, path, "", "", withToken(fresh)...).status)
	r = b.doJSON(http.MethodPost, "/api/auth/token", `{"email":"ada@example.com","password":"`+testPassword+`"}`)
	require.Equal(t, http.StatusUnauthorized, r.status, "the old password no longer signs in")

	var args []byte
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT args FROM river_job WHERE args->>'type' = 'password-changed'").Scan(&args))
	var notice map[string]any
	require.NoError(t, json.Unmarshal(args, &notice))
	require.Equal(t, "ada@example.com", notice["to"])
}
