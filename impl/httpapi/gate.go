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
// applies its rate limit, authenticates the caller as its security requirement says, and validates the request.
// Everything it enforces is read from the spec, so a new operation is covered by declaring it.
type gate struct {
	router   routers.Router
	limits   *rateLimits
	authn    *authenticator
	validate *validator
	errs     errorWriter
}

func newGate(doc *openapi3.T, limits *rateLimits, authn *authenticator, errs errorWriter) (*gate, error) {
	validate, err := newValidator(doc, errs)
	if err != nil {
		return nil, err
	}
	// Servers name hosts for documentation; routing must match on the path alone.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	return &gate{router: router, limits: limits, authn: authn, validate: validate, errs: errs}, nil
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
		if !g.limits.allow(w, r, route.Operation.OperationID) {
			return
		}
		r, ok := g.authn.authenticate(w, r, route)
		if !ok {
			return
		}
		if !g.validate.check(w, r, route, pathParams) {
			return
		}
		next.ServeHTTP(w, r)
	})
}
