package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/ratelimit"
)

// FuzzRequestDecoding sends arbitrary bodies and content types to POST /api/users through the gate: the answer is
// always a pass to the handler or a documented 4xx in the envelope, never a panic or a 5xx.
func FuzzRequestDecoding(f *testing.F) {
	f.Add([]byte(`{"name":"Ada","email":"ada@example.com","password":"long enough"}`), "application/json")
	f.Add([]byte(`{"name":`), "application/json")
	f.Add([]byte(`{"name":"a\u0000b","email":"x@y.z","password":"12345678","extra":[1,{"a":null}]}`), "application/json; charset=utf-8")
	f.Add([]byte(`[[[[[[[[[[]]]]]]]]]]`), "application/json")
	f.Add([]byte("name=Ada"), "application/x-www-form-urlencoded")
	f.Add([]byte{0xff, 0xfe, 0x00}, "")
	f.Add([]byte(`{"name":"\ud83d\ude00\ud800","email":"a@b.co","password":"12345678"}`), "application/json")
	f.Add([]byte(`{"name":"\\ud800\udc00","email":"a@b.co","password":"12345678"}`), "application/json")
	doc, err := api.GetSpec()
	if err != nil {
		f.Fatal(err)
	}
	problems, err := loadProblemTypes(doc)
	if err != nil {
		f.Fatal(err)
	}
	errs := errorWriter{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), problems: problems}
	g, err := newGate(doc, ratelimit.New(config.RateLimitConfig{}, nil), &authenticator{}, nil, errs)
	if err != nil {
		f.Fatal(err)
	}
	passed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := chi.NewRouter()
	h.With(g.middleware).Post("/api/users", passed) // the gate finds its operation by chi's route
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/api/users", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent:
			return
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			var e api.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.StatusCode != rec.Code {
				t.Fatalf("%d without the envelope: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q (%s): %s", rec.Code, body, contentType, rec.Body)
		}
	})
}
