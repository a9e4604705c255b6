package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/junction-dev/junction/impl/ratelimit"
)

// rateLimitExtension on every operation: {action, account, account-path}, the [ratelimit.Action] the operation
// performs and, for actions also counted per account, the body property (account) or the path parameter
// (account-path) that names the account.
const rateLimitExtension = "x-rate-limit"

// limitRule is an operation's x-rate-limit.
type limitRule struct {
	action ratelimit.Action
	// account is the body property holding the account the request targets, accountPath the path parameter
	// ("" for none).
	account, accountPath string
}

func parseLimitRule(v any) (limitRule, error) {
	m, _ := v.(map[string]any)
	action, _ := m["action"].(string)
	if !ratelimit.Known(ratelimit.Action(action)) {
		return limitRule{}, fmt.Errorf("%s needs an action of impl/ratelimit, not %q", rateLimitExtension, action)
	}
	account, _ := m["account"].(string)
	accountPath, _ := m["account-path"].(string)
	return limitRule{action: ratelimit.Action(action), account: account, accountPath: accountPath}, nil
}

// limit counts the request against its operation's action and sets the RateLimit fields. Over a limit it answers
// 429 with Retry-After and returns false.
func (g *gate) limit(w http.ResponseWriter, r *http.Request, rule limitRule, pathParams map[string]string, body []byte, errs errorWriter) bool {
	account := bodyProperty(body, rule.account)
	if rule.accountPath != "" {
		account = pathParams[rule.accountPath]
	}
	if err := countAction(w, r, g.limits, rule.action, account); err != nil {
		errs.service(w, r, err)
		return false
	}
	return true
}

// countAction counts one action of r's client (and account) and shows it in w's RateLimit fields; over a limit it
// returns the [ratelimit.ExceededError] that the error writer renders as 429.
func countAction(w http.ResponseWriter, r *http.Request, limits *ratelimit.Limits, action ratelimit.Action, account string) error {
	res, err := limits.Check(r.Context(), action, account)
	if err != nil {
		return err
	}
	res.SetHeaders(w.Header())
	return res.Err()
}

// bodyProperty is the string property name of a JSON object body, or "" (validation refuses a body without it).
func bodyProperty(body []byte, name string) string {
	if name == "" || len(body) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[name], &s) != nil {
		return ""
	}
	return s
}
