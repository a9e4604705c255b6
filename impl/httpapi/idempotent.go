package httpapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/junction-dev/junction/impl/idempotent"
)

// takesIdempotencyKey reports whether op declares the Idempotency-Key header: the operations the gate runs
// through the idempotency service when a request carries one. The contract says which, not this code.
func takesIdempotencyKey(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && http.CanonicalHeaderKey(p.Value.Name) == idempotent.KeyHeader {
			return true
		}
	}
	return false
}

// idempotent runs a keyed request r of route through next once per key (impl/idempotent). body is the request's
// body, read by the gate.
func (g *gate) idempotent(w http.ResponseWriter, r *http.Request, next http.Handler, route string, body []byte, errs errorWriter) {
	key, ok := idempotent.ParseKey(r.Header.Get(idempotent.KeyHeader))
	if !ok {
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{
			idempotent.KeyHeader: {"must be 1 to 255 printable characters, bare or in double quotes"},
		})
		return
	}
	idempotent.Serve(w, r, g.idem, idempotent.Request(r, route, key, body), body, next, errs.service)
}
