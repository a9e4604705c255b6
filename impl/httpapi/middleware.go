package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/junction-dev/junction/impl/clientip"
)

type requestIDKey struct{}

// RequestIDFromContext returns the request id that [requestID] stored, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestContext puts the request id and the client's address ([clientip]) in the request's context, in one copy
// of the request (each r.WithContext copies the whole request).
//
// The request id honours a sane X-Request-Id from the client (so ids can follow a request across services) and is
// generated otherwise; either way it is echoed in the response and available to logs and error envelopes.
func requestContext(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				id = newRequestID()
			}
			w.Header()["X-Request-Id"] = []string{id} // Set, without canonicalizing a canonical key
			ctx := clientip.NewContext(context.WithValue(r.Context(), requestIDKey{}, id), clientip.Of(r, trusted))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// validRequestID accepts 1..128 printable ASCII characters, so a client cannot inject newlines or bulk into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	var id [24]byte
	hex.Encode(id[:], b[:])
	return string(id[:])
}

// statusRecorder remembers the status and size of a response, for the access log and the metrics: the status is
// the first one written, by WriteHeader or implied by a Write, which is what net/http sends.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// responseStarted reports whether a status has already been sent on w, found through its wrappers' Unwrap.
func responseStarted(w http.ResponseWriter) bool {
	for w != nil {
		switch rec := w.(type) {
		case *statusRecorder:
			return rec.status != 0
		case interface{ Started() bool }: // impl/idempotent's, which keeps a keyed request's answer
			return rec.Started()
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
	return false
}

// code is the status sent: 200 when the handler wrote nothing at all.
func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// routePattern is the pattern of the route that served r, or "" when none matched. Logs and metrics name routes by
// pattern, never by raw path, so that ids do not explode their cardinality.
func routePattern(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		return rctx.RoutePattern()
	}
	return ""
}

// accessLog writes one line per request with its method, route pattern (the raw path when no route matched),
// status, duration and request id.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			status := rec.code()
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			// Asked first, so that a line the level leaves out (LOG_LEVEL=warn) costs no attributes.
			if !logger.Enabled(r.Context(), level) {
				return
			}
			route := routePattern(r)
			if route == "" {
				route = r.URL.Path
			}
			logger.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.Int("bytes", rec.bytes),
				slog.String("request_id", RequestIDFromContext(r.Context())),
			)
		})
	}
}

// countRequests reports each request that reaches it to m, with its route pattern, method, status and duration.
// Under the access log it reads the access log's recorder rather than wrapping the writer again: nothing between
// the two writes a status before calling on, so both would record the same one.
func countRequests(m Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec, ok := w.(*statusRecorder)
			if !ok || rec.status != 0 {
				rec = &statusRecorder{ResponseWriter: w}
				w = rec
			}
			next.ServeHTTP(w, r)
			m.ObserveRequest(routePattern(r), r.Method, rec.code(), time.Since(start))
		})
	}
}

// recoverer turns a panic in a handler into a 500 envelope and a logged stack, instead of a dropped connection.
func recoverer(errs errorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				errs.logger.ErrorContext(r.Context(), "panic", "panic", v, "stack", string(debug.Stack()),
					"request_id", RequestIDFromContext(r.Context()))
				errs.write(w, r, http.StatusInternalServerError, "An unexpected error occurred.", nil)
			}()
			next.ServeHTTP(w, r)
		})
	}
}
