package apitest

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSpecIsAProduct keeps openapi.yaml complete for the people who read it: every operation is named, summarized,
// tagged and described; every body has an example; every error is the envelope; limited operations document
// their rate-limit headers, every response its X-Request-Id.
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
					schema := resp.Value.Content.Get("application/json").Schema
					require.Equal(t, "#/components/schemas/Error", schema.Ref, "%s %s: the error envelope", where, code)
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
