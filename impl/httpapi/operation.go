package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// Extensions of openapi.yaml that the gate enforces, so that the document and the server cannot disagree.
const (
	// bodyLimitExtension on info: the default request body limit in bytes.
	bodyLimitExtension = "x-request-body-max-bytes"
	// opBodyLimitExtension on an operation: its own body limit.
	opBodyLimitExtension = "x-max-body-bytes"
	// rejectionExtension on an operation: {problem} for every request the gate refuses, a problem type of
	// x-problem-types whose status and title replace the refusal's (webhooks answer their senders with one status
	// whatever went wrong).
	rejectionExtension = "x-rejection"
)

// The security schemes of openapi.yaml.
const (
	schemeBearer          = "bearerAuth"
	schemeAdmin           = "adminAuth"
	schemeStripeSignature = "stripeSignature"
)

// opRules are what the gate enforces for one operation, read once from openapi.yaml.
type opRules struct {
	// scheme is the security scheme ("" for a public operation); optional means anonymous calls are allowed too.
	scheme   string
	optional bool
	// bodyLimit is the most bytes a body may have.
	bodyLimit int64
	rejection *rejection
	limit     limitRule
	// idempotent: the operation declares the Idempotency-Key header.
	idempotent bool
}

// rejection replaces the status, error title and problem type of every 4xx the gate answers for an operation
// (but 429).
type rejection struct {
	status  int
	title   string
	problem string
}

// compileRules reads each operation's rules; problems are x-problem-types, which rejections name.
func compileRules(doc *openapi3.T, problems problemTypes) (map[*openapi3.Operation]opRules, error) {
	defaultLimit, ok := positiveNumber(doc.Info.Extensions[bodyLimitExtension])
	if !ok {
		return nil, fmt.Errorf("openapi.yaml: info.%s must be a positive number of bytes", bodyLimitExtension)
	}
	rules := map[*openapi3.Operation]opRules{}
	var err error
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			r := opRules{bodyLimit: defaultLimit, idempotent: takesIdempotencyKey(op)}
			if v, ok := op.Extensions[opBodyLimitExtension]; ok {
				if r.bodyLimit, ok = positiveNumber(v); !ok {
					return nil, fmt.Errorf("openapi.yaml: %s %s: %s must be a positive number", method, path, opBodyLimitExtension)
				}
			}
			if r.limit, err = parseLimitRule(op.Extensions[rateLimitExtension]); err != nil {
				return nil, fmt.Errorf("openapi.yaml: %s %s: %w", method, path, err)
			}
			if v, ok := op.Extensions[rejectionExtension]; ok {
				m, _ := v.(map[string]any)
				name, _ := m["problem"].(string)
				t, ok := problems[name]
				if !ok || t.status < 400 || t.status > 499 || len(m) != 1 {
					return nil, fmt.Errorf("openapi.yaml: %s %s: %s needs only a problem, one of %s with a 4xx status", method, path, rejectionExtension, problemTypesExtension)
				}
				r.rejection = &rejection{status: t.status, title: t.title, problem: name}
			}
			reqs := doc.Security
			if op.Security != nil {
				reqs = *op.Security
			}
			for _, req := range reqs {
				if len(req) == 0 {
					r.optional = true
				}
				for name := range req {
					if r.scheme != "" && r.scheme != name {
						return nil, fmt.Errorf("openapi.yaml: %s %s: one security scheme per operation", method, path)
					}
					r.scheme = name
				}
			}
			switch r.scheme {
			case "", schemeBearer, schemeAdmin, schemeStripeSignature:
			default:
				return nil, fmt.Errorf("openapi.yaml: %s %s: unknown security scheme %q", method, path, r.scheme)
			}
			// The one refusal kin-openapi's security step could make (the validator leaves the step out).
			if r.scheme != "" && (doc.Components == nil || doc.Components.SecuritySchemes[r.scheme] == nil) {
				return nil, fmt.Errorf("openapi.yaml: %s %s: security scheme %q is not declared in components", method, path, r.scheme)
			}
			rules[op] = r
		}
	}
	return rules, nil
}

func positiveNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), n > 0
	case json.Number:
		i, err := n.Int64()
		return i, err == nil && i > 0
	case int:
		return int64(n), n > 0
	}
	return 0, false
}

// apply applies a rejection to the status and problem type of an error about to be answered: it returns the
// status, the envelope's title and the problem type to answer.
func (r *rejection) apply(status int, problem string) (int, string, string) {
	if r == nil || status < 400 || status > 499 || status == http.StatusTooManyRequests {
		return status, http.StatusText(status), problem
	}
	return r.status, r.title, r.problem
}
