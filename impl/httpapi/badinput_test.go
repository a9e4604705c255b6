package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

// TestEveryOperationRefusesBadInput walks every operation of openapi.yaml (so new ones are covered without
// touching this test) and sends it malformed and hostile input: every answer must be a documented status (the
// test client checks that) and never a 5xx.
func TestEveryOperationRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	_, err := b.pool.Exec(context.Background(), "UPDATE users SET role = 'admin' WHERE email = 'ada@example.com'")
	require.NoError(t, err)

	doc, err := api.GetSpec()
	require.NoError(t, err)
	pathValues := []string{"not-a-uuid", uuid.NewString(), "' OR 1=1 --", "%00", strings.Repeat("9", 300), "😀"}
	queryValues := []string{"abc", "-1", "0", "99999999999999999999", "1e309", "' OR '1'='1", "%00", strings.Repeat("x", 5000), "😀\u202e", "true; DROP TABLE users"}
	bodies := []string{
		`{`, `[]`, `"string"`, `null`, `{}`, `{"unknown":"field"}`, `{"name":123,"title":[],"content":{},"email":false}`,
		`{"name":"` + strings.Repeat("n", 10_000) + `"}`, `{"title":"\u0000","content":"\ud800"}`,
		strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000),
		`{"email":"' OR 1=1 --","password":"x","name":"Robert'); DROP TABLE users;--"}`,
	}
	requests := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			send := func(p, query, body string) {
				t.Helper()
				contentType := ""
				if body != "" {
					contentType = "application/json"
				}
				target := p
				if query != "" {
					target += "?" + query
				}
				r := b.do(method, target, contentType, body, withToken(token)...)
				requests++
				require.Less(t, r.status, 500, "%s %s (body %.60q): %s", method, target, body, r.body)
				if r.status >= 400 {
					var e api.Error
					require.NoError(t, json.Unmarshal(r.body, &e), "%s %s: not the envelope: %s", method, target, r.body)
					require.Equal(t, r.status, e.StatusCode)
				}
			}
			// Path parameters: each bad value in every position, with valid query and body.
			for _, v := range pathValues {
				p := path
				for _, prm := range params {
					if prm.Value.In == "path" {
						p = strings.ReplaceAll(p, "{"+prm.Value.Name+"}", url.PathEscape(v))
					}
				}
				send(p, "", "")
			}
			concrete := path
			for _, prm := range params {
				if prm.Value.In == "path" {
					concrete = strings.ReplaceAll(concrete, "{"+prm.Value.Name+"}", uuid.NewString())
				}
			}
			for _, prm := range params {
				if prm.Value.In != "query" {
					continue
				}
				for _, v := range queryValues {
					send(concrete, url.Values{prm.Value.Name: {v}}.Encode(), "")
				}
			}
			if op.RequestBody != nil {
				for _, body := range bodies {
					send(concrete, "", body)
				}
			}
		}
	}
	require.Greater(t, requests, 300)
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n))
	require.Equal(t, 1, n, "the table survived, and nothing bad was stored")
}
