package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/service"
)

// TestProblemTypesComeFromTheContract: the server will not start on an x-problem-types that lacks a type it
// answers, gives one another status, or is not a registry of absolute, distinct URIs; nor on an x-rejection that
// names no 4xx problem type of it.
func TestProblemTypesComeFromTheContract(t *testing.T) {
	t.Parallel()
	entry := func(doc *openapi3.T, name string) map[string]any {
		return doc.Extensions[problemTypesExtension].(map[string]any)[name].(map[string]any)
	}
	tests := []struct {
		name   string
		change func(doc *openapi3.T)
		want   string // "" when the document loads
	}{
		{"as written", func(*openapi3.T) {}, ""},
		{"no registry", func(doc *openapi3.T) { delete(doc.Extensions, problemTypesExtension) }, "must map problem type names"},
		{"a type it answers missing", func(doc *openapi3.T) {
			delete(doc.Extensions[problemTypesExtension].(map[string]any), problemIdempotencyKeyInFlight)
		}, "needs idempotency-key-in-flight, with status 409"},
		{"another status", func(doc *openapi3.T) { entry(doc, problemRateLimited)["status"] = float64(400) }, "needs rate-limited, with status 429"},
		{"a relative type", func(doc *openapi3.T) { entry(doc, problemConflict)["type"] = "/problems/conflict" }, "must be an absolute URI"},
		{"no title", func(doc *openapi3.T) { delete(entry(doc, problemConflict), "title") }, "needs a title"},
		{"one URI twice", func(doc *openapi3.T) {
			entry(doc, problemConflict)["type"] = entry(doc, problemNotFound)["type"]
		}, "have one type URI"},
		{"a rejection of no known type", func(doc *openapi3.T) {
			doc.Paths.Value("/api/webhooks/stripe").Post.Extensions[rejectionExtension] = map[string]any{"problem": "nope"}
		}, "x-rejection needs only a problem"},
		{"a rejection of a 5xx type", func(doc *openapi3.T) {
			doc.Paths.Value("/api/webhooks/stripe").Post.Extensions[rejectionExtension] = map[string]any{"problem": problemInternal}
		}, "x-rejection needs only a problem"},
		{"a rejection in the old form", func(doc *openapi3.T) {
			doc.Paths.Value("/api/webhooks/stripe").Post.Extensions[rejectionExtension] = map[string]any{"status": float64(400), "error": "Webhook validation failed"}
		}, "x-rejection needs only a problem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := api.GetSpec() // a fresh copy: the changes are the test's own
			require.NoError(t, err)
			tt.change(doc)
			problems, err := loadProblemTypes(doc)
			if err == nil {
				_, err = compileRules(doc, problems)
			}
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestAProblemWithoutATypeIsAboutBlank: an error whose status has no problem type (a 422 that is not a reused key)
// is RFC 9457's about:blank with its status's text, not another type's.
func TestAProblemWithoutATypeIsAboutBlank(t *testing.T) {
	t.Parallel()
	doc, err := api.GetSpec()
	require.NoError(t, err)
	problems, err := loadProblemTypes(doc)
	require.NoError(t, err)
	logger, _ := logtest.New()
	e := errorWriter{logger: logger, problems: problems}
	tests := []struct {
		name      string
		err       error
		wantType  string
		wantTitle string
	}{
		{"another 422", &service.Error{Code: service.EUNPROCESSABLE, Message: "Not like this."}, "about:blank", "Unprocessable Entity"},
		{"a reused key", service.ErrIdempotencyKeyReused, "https://junction.dev/problems/idempotency-key-reused", "Idempotency-Key reused for another request"},
		{"a running key", service.ErrIdempotencyInFlight, "https://junction.dev/problems/idempotency-key-in-flight", "Idempotency-Key still running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/api/posts", nil)
			req.Header.Set("Accept", problemJSON)
			rec := httptest.NewRecorder()
			e.service(rec, req, tt.err)
			var p api.Problem
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			require.Equal(t, tt.wantType, p.Type)
			require.Equal(t, tt.wantTitle, p.Title)
			require.Equal(t, rec.Code, p.Status)
		})
	}
}
