package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/junction-dev/junction/impl/idempotent"
	"github.com/junction-dev/junction/impl/service"
)

// withIdempotency runs a POST that carries an Idempotency-Key and one mutation through store (impl/idempotent),
// as REST runs its keyed operations: its writes and its answer are stored together, and a retry with the key gets
// that answer. A key on anything but one mutation is refused: a query needs none, and several operations would
// not say which the key is for. After authentication, so that a signed-in caller's keys are theirs.
func withIdempotency(store idempotent.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get(idempotent.KeyHeader)
		if header == "" || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		key, ok := idempotent.ParseKey(header)
		if !ok {
			writeError(w, http.StatusBadRequest, "The Idempotency-Key must be 1 to 255 printable characters, bare or in double quotes.",
				map[string]any{"code": "BAD_REQUEST"})
			return
		}
		body, err := io.ReadAll(r.Body) // bounded by the handler's MaxBytesReader
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "The request body is too large.", map[string]any{"code": "BAD_REQUEST"})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !oneMutation(body) {
			writeError(w, http.StatusBadRequest, "An Idempotency-Key takes a request of one mutation.", map[string]any{"code": "BAD_REQUEST"})
			return
		}
		idempotent.Serve(w, r, store, idempotent.Request(r, graphQLRoute, key, body), body, next, refuseKeyed)
	})
}

// graphQLRoute is the route GraphQL's keys belong to, beside REST's route patterns.
const graphQLRoute = "/graphql"

// oneMutation reports whether body is a GraphQL request of one operation, a mutation (the one its operationName
// names, when the document holds several).
func oneMutation(body []byte) bool {
	var p struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &p) != nil {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, maxTokens)
	if err != nil || len(doc.Operations) != 1 {
		return false
	}
	op := doc.Operations[0]
	return op.Operation == ast.Mutation && (p.OperationName == "" || p.OperationName == op.Name)
}

// refuseKeyed answers a keyed mutation's refusal in GraphQL's error shape, with REST's status for it.
func refuseKeyed(w http.ResponseWriter, _ *http.Request, err error) {
	switch {
	case errors.Is(err, service.ErrIdempotencyInFlight), errors.Is(err, service.ErrIdempotencyRunAgain):
		writeError(w, http.StatusConflict, service.ErrIdempotencyInFlight.Message, map[string]any{"code": codes[service.ECONFLICT]})
	case errors.Is(err, service.ErrIdempotencyKeyReused):
		writeError(w, http.StatusUnprocessableEntity, service.ErrIdempotencyKeyReused.Message, map[string]any{"code": codes[service.EUNPROCESSABLE]})
	case service.ErrorCode(err) == service.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable; retry shortly.", map[string]any{"code": codes[service.EUNAVAILABLE]})
	default:
		writeError(w, http.StatusInternalServerError, "internal error", map[string]any{"code": "INTERNAL_SERVER_ERROR"})
	}
}
