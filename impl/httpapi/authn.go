package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/junction-dev/junction/impl/service"
)

// authenticator enforces each operation's security requirement from openapi.yaml:
//   - no requirement: the operation is public and any Authorization header is ignored;
//   - bearerAuth: a valid token is required;
//   - bearerAuth or {} (anonymous): a token is optional, but one that is sent must be valid.
type authenticator struct {
	doc  *openapi3.T
	svc  func(ctx context.Context, token string) (service.Actor, error)
	errs errorWriter
}

type access int

const (
	public access = iota
	optional
	required
)

func (a *authenticator) accessOf(op *openapi3.Operation) access {
	reqs := a.doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return public
	}
	for _, req := range reqs {
		if len(req) == 0 {
			return optional
		}
	}
	return required
}

// authenticate returns r with the caller's [service.Actor] in its context, or answers 401 and returns false.
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request, route *routers.Route) (*http.Request, bool) {
	mode := a.accessOf(route.Operation)
	if mode == public {
		return r, true
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		if mode == optional {
			return r, true
		}
		a.errs.write(w, r, http.StatusUnauthorized, "Sign in: send Authorization: Bearer <token>.", nil)
		return r, false
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		a.errs.write(w, r, http.StatusUnauthorized, "The Authorization header must be: Bearer <token>.", nil)
		return r, false
	}
	actor, err := a.svc(r.Context(), strings.TrimSpace(token))
	if err != nil {
		a.errs.service(w, r, err)
		return r, false
	}
	return r.WithContext(service.NewContextWithActor(r.Context(), actor)), true
}
