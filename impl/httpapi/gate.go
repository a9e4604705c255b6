package httpapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"

	"github.com/junction-dev/junction/impl/idempotent"
	"github.com/junction-dev/junction/impl/ratelimit"
)

// gate is the one middleware in front of every operation of openapi.yaml. It finds the operation, then in order:
// reads its body within its limit (without parsing it), counts it against its action's rate limit, authenticates the caller as its
// security requirement says (a bearer token, an admin's, or a webhook signature over the raw body), and validates
// the request. Everything it enforces is read from the spec, so a new operation is covered by declaring it.
type gate struct {
	// routes finds each operation by the chi route pattern that matched it ("GET /api/users/{id}"): oapi-codegen
	// registers the spec's own path templates, so chi has already done the routing (a second router cost 8% of a
	// by-id read's CPU).
	routes   map[string]*routers.Route
	rules    map[*openapi3.Operation]opRules
	limits   *ratelimit.Limits
	authn    *authenticator
	validate *validator
	errs     errorWriter
	idem     idempotent.Store
}

func newGate(doc *openapi3.T, limits *ratelimit.Limits, authn *authenticator, idem idempotent.Store, errs errorWriter) (*gate, error) {
	rules, err := compileRules(doc, errs.problems)
	if err != nil {
		return nil, err
	}
	routes := map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			routes[method+" "+path] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return &gate{routes: routes, rules: rules, limits: limits, authn: authn, validate: newValidator(doc), errs: errs, idem: idem}, nil
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
		rctx := chi.RouteContext(r.Context())
		method := r.Method
		if method == http.MethodHead { // middleware.GetHead routed it to the GET operation
			method = http.MethodGet
		}
		route, ok := g.routes[method+" "+rctx.RoutePattern()]
		if !ok { // a route of the generated server that the spec lacks: cannot happen while both come from it
			g.errs.write(w, r, http.StatusNotFound, "No such resource.", nil)
			return
		}
		pathParams := make(map[string]string, len(rctx.URLParams.Keys))
		for i, k := range rctx.URLParams.Keys {
			pathParams[k] = rctx.URLParams.Values[i]
		}
		joinListHeaders(r.Header)
		op := route.Operation
		rules := g.rules[op]
		errs := g.errs.with(rules.rejection)
		body, ok := g.validate.readBody(w, r, op, rules, errs)
		if !ok || !g.limit(w, r, rules.limit, pathParams, body, errs) {
			return
		}
		r, ok = g.authn.authenticate(w, r, rules, body, errs)
		if !ok {
			return
		}
		if !g.validate.check(w, r, route, pathParams, body, errs) {
			return
		}
		if rules.idempotent && r.Header.Get(idempotent.KeyHeader) != "" {
			g.idempotent(w, r, next, rctx.RoutePattern(), body, errs)
			return
		}
		next.ServeHTTP(w, r)
	})
}
