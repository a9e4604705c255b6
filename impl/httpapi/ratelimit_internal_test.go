package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

// TestRateLimitedOperationsExist keeps the limit table in step with openapi.yaml: a renamed operation would
// otherwise silently fall back to the default limit.
func TestRateLimitedOperationsExist(t *testing.T) {
	t.Parallel()
	doc, err := api.GetSpec()
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids[op.OperationID] = true
		}
	}
	for op := range limitedOps {
		require.True(t, ids[op], op)
	}
	for op := range unlimitedOps {
		require.True(t, ids[op], op)
	}
}
