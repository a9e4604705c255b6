package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/cors"
)

// noStore is the Cache-Control of every answer that carries a secret (a token, a signing secret, the admin
// session's cookie): no cache keeps it. GraphQL's handler sends the same.
const noStore = "no-store"

// securityHeaders sets the headers every response carries. Pages that run scripts (Swagger UI, GraphiQL, River
// UI) get a policy that lets their own assets load; everything else is JSON and may load nothing at all.
//
// The values are stored as they are under their canonical keys, which is what Header.Set stores, but without
// Set's new one-element slice per header per request (five allocations a request): the slices are made once here
// and shared by every response. That is safe as long as nothing writes into a header's slice in place; net/http
// and the middleware only replace a value (Set) or append to it (Add, which copies a slice whose capacity is
// its length, as these are). TestSecurityHeadersAreSharedSafely checks both.
func securityHeaders() func(http.Handler) http.Handler {
	var (
		nosniff     = []string{"nosniff"}
		frameDeny   = []string{"DENY"}
		noReferrer  = []string{"no-referrer"}
		sameOrigin  = []string{"same-origin"}
		loadNothing = []string{"default-src 'none'; frame-ancestors 'none'"}
	)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["X-Content-Type-Options"] = nosniff
			h["X-Frame-Options"] = frameDeny
			h["Referrer-Policy"] = noReferrer
			h["Cross-Origin-Opener-Policy"] = sameOrigin
			if !servesPage(r) {
				h["Content-Security-Policy"] = loadNothing
			}
			next.ServeHTTP(w, r)
		})
	}
}

func servesPage(r *http.Request) bool {
	p := r.URL.Path
	return p == "/docs" || strings.HasPrefix(p, "/docs/") || strings.HasPrefix(p, AdminJobsPath) ||
		(p == "/graphql" && r.Method == http.MethodGet) || strings.HasPrefix(p, "/graphql/assets/")
}

// corsFor allows cross-origin calls from the listed origins only; with none listed, browsers on other origins
// cannot call the API at all (the default). What a browser may send and read is what the contract declares
// (contractHeaders), so that a header added to openapi.yaml (Idempotency-Key, If-Match, ETag) works from a page
// without a second list to keep.
func corsFor(origins []string, doc *openapi3.T) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	sent, answered := contractHeaders(doc)
	return cors.Handler(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		// Authorization is the bearer scheme's, Content-Type every body's and X-Request-Id the client's own id
		// (components/headers/XRequestId); the rest are the operations' header parameters.
		AllowedHeaders: append([]string{"Authorization", "Content-Type", "X-Request-Id"}, sent...),
		ExposedHeaders: answered,
		MaxAge:         600,
	})
}

// contractHeaders are the header parameters of doc's operations and the headers of its responses (with the
// middleware's), each once, sorted. Content-Type is left out of the answered ones: scripts may read it anyway.
func contractHeaders(doc *openapi3.T) (sent, answered []string) {
	in, out := map[string]bool{}, map[string]bool{}
	addResponses := func(rs map[string]*openapi3.ResponseRef) {
		for _, r := range rs {
			if r.Value == nil {
				continue
			}
			for name := range r.Value.Headers {
				out[http.CanonicalHeaderKey(name)] = true
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInHeader {
					in[http.CanonicalHeaderKey(p.Value.Name)] = true
				}
			}
			if op.Responses != nil {
				addResponses(op.Responses.Map())
			}
		}
	}
	// The middleware's own headers, which the overlay keeps out of the document the server embeds.
	for _, h := range []string{"X-Request-Id", "RateLimit-Policy", "RateLimit", "Retry-After", "Allow"} {
		out[http.CanonicalHeaderKey(h)] = true
	}
	delete(out, "Content-Type")
	return slices.Sorted(maps.Keys(in)), slices.Sorted(maps.Keys(out))
}
