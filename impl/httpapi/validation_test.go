package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := func(name, email, password string) string {
		return fmt.Sprintf(`{"name":%q,"email":%q,"password":%q}`, name, email, password)
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		field       string // a key expected in errors, for 400s
	}{
		{"malformed JSON", "application/json", `{"name":`, http.StatusBadRequest, "body"},
		{"not an object", "application/json", `[1,2,3]`, http.StatusBadRequest, "body"},
		{"empty body", "application/json", ``, http.StatusBadRequest, "body"},
		{"trailing garbage", "application/json", body("Ada", "ada@example.com", "long enough") + `}`, http.StatusBadRequest, "body"},
		{"unknown field", "application/json", `{"name":"Ada","email":"ada@example.com","password":"long enough","admin":true}`, http.StatusBadRequest, "admin"},
		{"missing name", "application/json", `{"email":"ada@example.com","password":"long enough"}`, http.StatusBadRequest, "name"},
		{"missing password", "application/json", `{"name":"Ada","email":"ada@example.com"}`, http.StatusBadRequest, "password"},
		{"name wrong type", "application/json", `{"name":123,"email":"ada@example.com","password":"long enough"}`, http.StatusBadRequest, "name"},
		{"empty name", "application/json", body("", "ada@example.com", "long enough"), http.StatusBadRequest, "name"},
		{"blank name", "application/json", body("   ", "ada@example.com", "long enough"), http.StatusBadRequest, "name"},
		{"name with NUL", "application/json", `{"name":"a\u0000b","email":"ada@example.com","password":"long enough"}`, http.StatusBadRequest, "name"},
		{"name of 101 characters", "application/json", body(strings.Repeat("é", 101), "ada@example.com", "long enough"), http.StatusBadRequest, "name"},
		{"invalid email", "application/json", body("Ada", "not-an-email", "long enough"), http.StatusBadRequest, "email"},
		{"email with display name", "application/json", body("Ada", "Ada <ada@example.com>", "long enough"), http.StatusBadRequest, "email"},
		{"email of 255 characters", "application/json", body("Ada", strings.Repeat("a", 243)+"@example.com", "long enough"), http.StatusBadRequest, "email"},
		{"password of 7 characters", "application/json", body("Ada", "ada@example.com", "1234567"), http.StatusBadRequest, "password"},
		{"password of 129 characters", "application/json", body("Ada", "ada@example.com", strings.Repeat("p", 129)), http.StatusBadRequest, "password"},
		{"deeply nested JSON", "application/json", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), http.StatusBadRequest, ""},
		{"body over 64 KiB", "application/json", `{"name":"` + strings.Repeat("x", 70000) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{"text/plain", "text/plain", body("Ada", "ada@example.com", "long enough"), http.StatusUnsupportedMediaType, ""},
		{"form encoded", "application/x-www-form-urlencoded", "name=Ada", http.StatusUnsupportedMediaType, ""},
		{"no content type", "", body("Ada", "ada@example.com", "long enough"), http.StatusUnsupportedMediaType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(http.MethodPost, "/api/users", tt.contentType, tt.body)
			require.Equal(t, tt.status, r.status, string(r.body))
			e := r.envelope(t)
			require.Equal(t, "/api/users", e.Path)
			require.Equal(t, http.MethodPost, e.Method)
			if tt.field != "" {
				require.NotNil(t, e.Errors, string(r.body))
				require.Contains(t, *e.Errors, tt.field, string(r.body))
			}
		})
	}

	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n))
	require.Zero(t, n, "no invalid request created a user")

	// The limits are inclusive: 100-character names (counted in characters, not bytes), 254-character emails and
	// 8- and 128-character passwords are fine.
	for _, ok := range []string{
		body(strings.Repeat("é", 100), "a@example.com", "12345678"),
		body("Ada", strings.Repeat("a", 242)+"@example.com", strings.Repeat("p", 128)),
		body("Zoë 🚀 Ünïcode", "zoe@example.com", "пароль-пароль"),
	} {
		r := b.do(http.MethodPost, "/api/users", "application/json; charset=utf-8", ok)
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
	}
}

func TestErrorMessagesUseFieldNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.doJSON(http.MethodPost, "/api/users", `{"name":"","email":"nope","password":"short","extra":1}`)
	require.Equal(t, http.StatusBadRequest, r.status)
	e := r.envelope(t)
	require.Equal(t, "The request is invalid.", *e.Message)
	require.ElementsMatch(t, []string{"name", "email", "password", "extra"}, keys(*e.Errors))
	require.Equal(t, []string{"must be a valid email"}, (*e.Errors)["email"])
	require.Equal(t, []string{"is not a known field"}, (*e.Errors)["extra"])
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
