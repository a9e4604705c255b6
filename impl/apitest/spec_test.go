package apitest

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

// TestSpecIsAProduct keeps openapi.yaml complete for the people who read it: every operation is named, summarized,
// tagged and described; every body has an example; every error is the envelope; limited operations document
// their rate-limit headers.
func TestSpecIsAProduct(t *testing.T) {
	t.Parallel()
	doc, err := api.GetSpec()
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
				if status < 300 && !unlimited[op.OperationID] {
					for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
						require.Contains(t, resp.Value.Headers, h, "%s %s", where, code)
					}
				}
			}
		}
	}
}
