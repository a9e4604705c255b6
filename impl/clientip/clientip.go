// Package clientip finds the IP address a request came from, believing X-Forwarded-For only as far as trusted
// proxies wrote it, and carries it in the request's context. Every policy keyed by client (rate limits, WebSocket
// caps) reads it from there, so all entrances agree on who the client is.
package clientip

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type key struct{}

// Middleware puts the client's address in each request's context, for [FromContext].
func Middleware(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), Of(r, trusted))))
		})
	}
}

// NewContext returns ctx carrying addr as the client's address.
func NewContext(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, key{}, addr)
}

// FromContext returns the client's address that [Middleware] stored, or the unspecified address when none was.
func FromContext(ctx context.Context) netip.Addr {
	if a, ok := ctx.Value(key{}).(netip.Addr); ok {
		return a
	}
	return netip.IPv4Unspecified()
}

// Key is the client's address as a limit key: an IPv6 client is keyed by its /64, the block one subscriber
// usually holds, so that walking through it does not multiply the client's allowance.
func Key(addr netip.Addr) string {
	if addr.Is6() && !addr.Is4In6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// Of is the IP a request came from. X-Forwarded-For is believed only as far as it was written by trusted
// proxies: walking it from the right, the first address that is not a trusted proxy is the client.
func Of(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	remote = remote.Unmap()
	if !isTrusted(remote, trusted) {
		return remote
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := remote
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing beyond it
		}
		client = addr.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
