package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/ratelimit"
)

// TestEveryOperationNamesItsAction keeps openapi.yaml's x-rate-limit complete: the gate refuses to start without it,
// and the sign-in and reset operations name the body property of their account.
func TestEveryOperationNamesItsAction(t *testing.T) {
	t.Parallel()
	doc, err := api.GetSpec()
	require.NoError(t, err)
	problems, err := loadProblemTypes(doc)
	require.NoError(t, err)
	rules, err := compileRules(doc, problems)
	require.NoError(t, err)
	byID := map[string]limitRule{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			byID[op.OperationID] = rules[op].limit
		}
	}
	for id, want := range map[string]limitRule{
		"createToken":          {action: ratelimit.ActionLogin, account: "email"},
		"requestPasswordReset": {action: ratelimit.ActionPasswordReset, account: "email"},
		"confirmPasswordReset": {action: ratelimit.ActionPasswordReset},
		"createUser":           {action: ratelimit.ActionSignup},
		"listUsers":            {action: ratelimit.ActionListUsers},
		"getHealth":            {action: ratelimit.ActionNone},
		"getReadiness":         {action: ratelimit.ActionNone},
		"receiveStripeWebhook": {action: ratelimit.ActionNone},
		"listPosts":            {action: ratelimit.ActionDefault},
		"patchUser":            {action: ratelimit.ActionLogin, accountPath: "id"},
		"replaceUser":          {action: ratelimit.ActionLogin, accountPath: "id"},
	} {
		require.Equal(t, want, byID[id], id)
	}

	delete(doc.Paths.Value("/api/posts").Get.Extensions, rateLimitExtension)
	_, err = compileRules(doc, problems)
	require.ErrorContains(t, err, "x-rate-limit", "an operation without its action")
}
