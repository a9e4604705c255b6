package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/cors"
)

// noStore is the Cache-Control of every answer that carries a secret (a token, a signing secret, the admin
// session's cookie): no cache keeps it. GraphQL's handler sends the same.
const noStore = "no-store"

// securityHeaders sets the headers every response carries. Pages that run scripts (Swagger UI, GraphiQL, River
// UI) get a policy that lets their own assets load; everything else is JSON and may load nothing at all.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !servesPage(r) {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

func servesPage(r *http.Request) bool {
	p := r.URL.Path
	return p == "/docs" || strings.HasPrefix(p, "/docs/") || strings.HasPrefix(p, AdminJobsPath) ||
		(p == "/graphql" && r.Method == http.MethodGet) || strings.HasPrefix(p, "/graphql/assets/")
}

// corsFor allows cross-origin calls from the listed origins only; with none listed, browsers on other origins
// cannot call the API at all (the default).
func corsFor(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.Handler(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id"},
		ExposedHeaders: []string{"X-Request-Id", "Location", "RateLimit-Policy", "RateLimit", "Retry-After", "Allow"},
		MaxAge:         600,
	})
}
