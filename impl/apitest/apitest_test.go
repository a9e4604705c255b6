package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTransportRejectsWhatTheSpecDoesNot proves the guard works: a server that drifts from openapi.yaml fails the
// request that saw it.
func TestTransportRejectsWhatTheSpecDoesNot(t *testing.T) {
	t.Parallel()
	const user = `{"id":"0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11","name":"Ada","email":"ada@example.com",` +
		`"createdAt":"2026-01-02T15:04:05Z","updatedAt":"2026-01-02T15:04:05Z"}`
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr bool
		noID    bool // leave out X-Request-Id
		noETag  bool // leave out the ETag a user's read answers with
	}{
		{"documented", http.StatusOK, `{"data":` + user + `,"links":{"self":"a","posts":"b","comments":"c"}}`, false, false, false},
		{"undocumented status", http.StatusTeapot, `{}`, true, false, false},
		{"missing required field", http.StatusOK, `{"data":` + user + `}`, true, false, false},
		{"field of the wrong type", http.StatusOK, `{"data":{"id":1},"links":{"self":"a","posts":"b","comments":"c"}}`, true, false, false},
		{"error without the envelope", http.StatusNotFound, `{"message":"nope"}`, true, false, false},
		{"no X-Request-Id", http.StatusOK, `{"data":` + user + `,"links":{"self":"a","posts":"b","comments":"c"}}`, true, true, false},
		{"no ETag", http.StatusOK, `{"data":` + user + `,"links":{"self":"a","posts":"b","comments":"c"}}`, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if !tt.noID {
					w.Header().Set("X-Request-Id", "5f1c0a8e9b7d4c3a")
				}
				if tt.status == http.StatusOK && !tt.noETag {
					w.Header().Set("ETag", `"1"`)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			tr, err := NewTransport(nil)
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/api/users/0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11")
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			require.Len(t, tr.BodiesContaining("Ada"), 1)
		})
	}
}
