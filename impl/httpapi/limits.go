package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
)

// graphQLPath is where the GraphQL endpoint, the only one that upgrades to WebSockets, is mounted.
const graphQLPath = "/graphql"

// webSocketUpgrade reports whether r asks to become a GraphQL WebSocket. Only such a request may skip the request
// deadline and the concurrency cap: an Upgrade header on any other path or method gets no exemption, so it
// cannot be used to slip a REST call past them. The WebSocket endpoint caps its sockets itself.
func webSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == graphQLPath &&
		headerHas(r.Header, "Upgrade", "websocket") && headerHas(r.Header, "Connection", "upgrade")
}

// headerHas reports whether the comma-separated values of header name include token, in any case.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// deadline gives each request's context a deadline, so that no query or call it makes can outlive it. WebSocket
// connections (GraphQL subscriptions) live as long as their client and are left alone.
func deadline(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if timeout <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if webSocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// bodyFirst reads a request's body, up to limit bytes, before the request takes a concurrency slot: a client that
// trickles its body then holds only its own connection (until the server's read timeout), never a slot that
// others need. The body is put back unparsed; what lies beyond limit is left for the gate to refuse. The bodies
// held this way share a budget of budget bytes, so that many connections cannot make the server hold more than
// that: beyond it a body is read in its slot, as any body was before.
func bodyFirst(limit, budget int64, errs errorWriter) func(http.Handler) http.Handler {
	held := semaphore.NewWeighted(budget)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.ContentLength > limit {
				next.ServeHTTP(w, r)
				return
			}
			size := limit + 1 // a body of unknown length may take all of it
			if r.ContentLength > 0 {
				size = r.ContentLength + 1
			}
			if !held.TryAcquire(size) {
				next.ServeHTTP(w, r)
				return
			}
			defer held.Release(size)
			buf, err := io.ReadAll(io.LimitReader(r.Body, size))
			if err != nil {
				errs.write(w, r, http.StatusBadRequest, "The request body could not be read.", nil)
				return
			}
			r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
			next.ServeHTTP(w, r)
		})
	}
}

// bodyBudget is what bodyFirst may hold at once: a thousand bodies of the usual limit (64 KiB).
const bodyBudget = 64 << 20

type readCloser struct {
	io.Reader
	io.Closer
}

// concurrencyCap serves at most n requests at once and answers the rest 503 at once, instead of queueing work the
// database cannot take. The probes always pass, so an overloaded instance still reports its state. WebSocket
// upgrades pass too: a socket would hold its slot as long as it stays open (a thousand idle sockets would take
// every slot), and it has caps of its own (impl/graph's WebSocketOptions).
func concurrencyCap(n int, errs errorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if n <= 0 {
			return next
		}
		slots := make(chan struct{}, n)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || webSocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				w.Header().Set("Retry-After", "1")
				errs.write(w, r, http.StatusServiceUnavailable, "The server is busy; retry shortly.", nil)
			}
		})
	}
}
