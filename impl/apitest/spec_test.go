package apitest

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// TestSpecIsAProduct keeps openapi.yaml complete for the people who read it: every operation is named, summarized,
// tagged and described; every body has an example; every error is the envelope or, negotiated, a problem, with an
// example of it; limited operations document their rate-limit headers, every response its X-Request-Id.
func TestSpecIsAProduct(t *testing.T) {
	t.Parallel()
	doc, err := Contract()
	require.NoError(t, err)
	unlimited := map[string]bool{"getHealth": true, "getReadiness": true, "receiveStripeWebhook": true}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			require.NotEmpty(t, op.OperationID, where)
			require.NotEmpty(t, op.Summary, where)
			require.NotEmpty(t, op.Description, where)
			require.NotEmpty(t, op.Tags, where)
			require.NotNil(t, op.Security, "%s: security is declared, [] when public", where)
			if rb := op.RequestBody; rb != nil {
				mt := rb.Value.Content.Get("application/json")
				require.NotNil(t, mt, where)
				require.True(t, mt.Example != nil || len(mt.Examples) > 0, "%s: the request body has an example", where)
			}
			for code, resp := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				require.NoError(t, err, where)
				if status >= 400 {
					require.Len(t, resp.Value.Content, 2, "%s %s: the envelope and the problem, nothing else", where, code)
					schema := resp.Value.Content.Get("application/json").Schema
					require.Equal(t, "#/components/schemas/Error", schema.Ref, "%s %s: the error envelope", where, code)
					problem := resp.Value.Content.Get("application/problem+json")
					require.NotNil(t, problem, "%s %s: problem details", where, code)
					require.Equal(t, "#/components/schemas/Problem", problem.Schema.Ref, "%s %s: problem details", where, code)
					require.True(t, problem.Example != nil || len(problem.Examples) > 0, "%s %s: a problem's example", where, code)
				}
				headers := resp.Value.Headers
				require.Contains(t, headers, "X-Request-Id", "%s %s", where, code)
				require.Equal(t, "#/components/headers/XRequestId", headers["X-Request-Id"].Ref, "%s %s", where, code)
				for _, h := range []string{"RateLimit-Policy", "RateLimit"} {
					if unlimited[op.OperationID] {
						require.NotContains(t, headers, h, "%s %s: not rate limited", where, code)
					} else {
						require.Contains(t, headers, h, "%s %s", where, code)
					}
				}
				for _, old := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
					require.NotContains(t, headers, old, "%s %s: the draft-11 fields replace it", where, code)
				}
				if status == 429 || status == 503 {
					require.Contains(t, headers, "Retry-After", "%s %s", where, code)
					require.True(t, headers["Retry-After"].Value.Required, "%s %s", where, code)
				}
			}
		}
	}
}

// TestProblemTypesAreDocumented: every problem type of x-problem-types has a description and is named in
// info.description, which is what Swagger UI shows (it does not show extensions); every example of a problem
// names one of them, with its status and title.
func TestProblemTypesAreDocumented(t *testing.T) {
	t.Parallel()
	doc, err := Contract()
	require.NoError(t, err)
	registry, ok := doc.Extensions["x-problem-types"].(map[string]any)
	require.True(t, ok, "x-problem-types")
	byURI := map[string]map[string]any{}
	for name, v := range registry {
		entry := v.(map[string]any)
		require.NotEmpty(t, entry["description"], name)
		uri := entry["type"].(string)
		require.Equal(t, "https://junction.dev/problems/"+name, uri, "a type's URI ends in its name")
		require.Contains(t, doc.Info.Description, "`"+name+"` (", "info.description lists %s with its status", name)
		byURI[uri] = entry
	}
	for name, resp := range doc.Components.Responses {
		if len(resp.Value.Content) == 0 {
			continue // NotModified: a 304 has no body (every error has one, TestSpecIsAProduct)
		}
		mt := resp.Value.Content.Get("application/problem+json")
		require.NotNil(t, mt, name)
		examples := []any{mt.Example}
		if mt.Example == nil {
			examples = examples[:0]
			for _, ex := range mt.Examples {
				examples = append(examples, ex.Value.Value)
			}
		}
		for _, ex := range examples {
			p := ex.(map[string]any)
			entry, ok := byURI[p["type"].(string)]
			require.True(t, ok, "%s: the example's type %v is in x-problem-types", name, p["type"])
			require.EqualValues(t, entry["status"], p["status"], name)
			require.Equal(t, entry["title"], p["title"], name)
		}
	}
}

// TestEveryChangeOfATaggedResourceIsConditional: an operation that changes a resource with an ETag (it answers
// 200 with one, or deletes what a GET of its path tags) takes If-Match and If-None-Match and declares their 412,
// and a read that takes If-None-Match declares its 304: a write that silently ignored a precondition its client
// sent (RFC 9110, section 13.1: an origin server MUST evaluate it) would be a lost update.
func TestEveryChangeOfATaggedResourceIsConditional(t *testing.T) {
	t.Parallel()
	doc, err := Contract()
	require.NoError(t, err)
	tags := func(op *openapi3.Operation, code string) bool {
		if op == nil || op.Responses.Value(code) == nil {
			return false
		}
		_, ok := op.Responses.Value(code).Value.Headers["ETag"]
		return ok
	}
	params := func(op *openapi3.Operation) map[string]bool {
		out := map[string]bool{}
		for _, p := range op.Parameters {
			out[p.Ref] = true
		}
		return out
	}
	writes := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			ps := params(op)
			if method == http.MethodGet {
				if ps["#/components/parameters/IfNoneMatch"] {
					require.NotNil(t, op.Responses.Value("304"), "%s: If-None-Match's 304", where)
				}
				continue
			}
			if !tags(op, "200") && (method != http.MethodDelete || !tags(item.Get, "200")) {
				continue
			}
			writes++
			require.True(t, ps["#/components/parameters/IfMatch"], "%s: takes If-Match", where)
			require.True(t, ps["#/components/parameters/IfNoneMatch"], "%s: takes If-None-Match", where)
			require.NotNil(t, op.Responses.Value("412"), "%s: their 412", where)
		}
	}
	require.GreaterOrEqual(t, writes, 7, "PUT, PATCH and DELETE of users, PATCH, DELETE and publish of posts, DELETE of comments")
}
