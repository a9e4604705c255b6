package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// gate is the one middleware in front of every operation of openapi.yaml. It finds the operation, then in order:
// applies its rate limit, reads its body within its limit (without parsing it), authenticates the caller as its
// security requirement says (a bearer token, an admin's, or a webhook signature over the raw body), and validates
// the request. Everything it enforces is read from the spec, so a new operation is covered by declaring it.
type gate struct {
	router   routers.Router
	rules    map[*openapi3.Operation]opRules
	limits   *rateLimits
	authn    *authenticator
	validate *validator
	errs     errorWriter
}

func newGate(doc *openapi3.T, limits *rateLimits, authn *authenticator, errs errorWriter) (*gate, error) {
	rules, err := compileRules(doc)
	if err != nil {
		return nil, err
	}
	// Servers name hosts for documentation; routing must match on the path alone.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	return &gate{router: router, rules: rules, limits: limits, authn: authn, validate: newValidator(), errs: errs}, nil
}

// maxBodyLimit is the largest body any operation accepts.
func (g *gate) maxBodyLimit() int64 {
	var n int64
	for _, r := range g.rules {
		n = max(n, r.bodyLimit)
	}
	return n
}

func (g *gate) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, pathParams, err := g.router.FindRoute(r)
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed):
			g.errs.write(w, r, http.StatusMethodNotAllowed, "This method is not allowed on this resource.", nil)
			return
		case err != nil:
			g.errs.write(w, r, http.StatusNotFound, "No such resource.", nil)
			return
		}
		op := route.Operation
		rules := g.rules[op]
		errs := g.errs.with(rules.rejection)
		if !g.limits.allow(w, r, op.OperationID, errs) {
			return
		}
		body, ok := g.validate.readBody(w, r, op, rules, errs)
		if !ok {
			return
		}
		r, ok = g.authn.authenticate(w, r, rules, body, errs)
		if !ok {
			return
		}
		if !g.validate.check(w, r, route, pathParams, body, errs) {
			return
		}
		next.ServeHTTP(w, r)
	})
}
