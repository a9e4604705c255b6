package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// The timeouts that [NewClient] uses when given zero.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTotalTimeout   = 15 * time.Second
)

// NewClient returns an HTTP client that enforces p on every request it sends, whatever the URL passed
// [CheckURL] earlier:
//
//   - Every connection's addresses are looked up afresh (net.DefaultResolver) and refused, all of them, if any
//     is not allowed; then, as each socket connects, its net.Dialer's ControlContext checks the very address
//     being dialled once more. A name rebound to 127.0.0.1 between save and send fails with [ErrForbiddenAddress].
//     The error names the host and the kind of address, not the address.
//   - No proxy, whatever HTTP_PROXY and HTTPS_PROXY say: through a proxy, the address dialled would be the
//     proxy's and the destination's lookup the proxy's own, so the check would judge the wrong address and let
//     the proxy reach anything it can. An egress proxy, if one is wanted, must enforce the policy itself.
//   - Redirects are not followed: a 3xx comes back as the response, for the caller to count as a failure.
//   - p.RequireHTTPS refuses an http:// request before dialling ([ErrInvalidURL]).
//   - TLS verifies against the system's roots, version 1.2 at least.
//   - connectTimeout (0: [DefaultConnectTimeout]) bounds the lookup and the TCP connect together, over all of
//     a name's addresses, and the TLS handshake separately; totalTimeout (0: [DefaultTotalTimeout]) bounds the
//     whole exchange, reading the body included.
//   - Keep-alives are on, sized for a receiver that takes many deliveries at once: as many idle connections per
//     host as the caller makes exchanges at once (conns; 0: 64), four times that in all, closed after 60 s idle.
//     Fewer would close and dial again, on every exchange, the connections above the idle bound. Responses are not decompressed and their headers are capped at
//     64 KiB; read the body with [ReadLimited].
func NewClient(p Policy, connectTimeout, totalTimeout time.Duration, conns int) *http.Client {
	return NewClientWithResolver(p, connectTimeout, totalTimeout, conns, nil)
}

// NewClientWithResolver is [NewClient] looking names up with r (nil: net.DefaultResolver), for tests that give a
// receiver a name.
func NewClientWithResolver(p Policy, connectTimeout, totalTimeout time.Duration, conns int, r Resolver) *http.Client {
	if conns <= 0 {
		conns = 64
	}
	if connectTimeout <= 0 {
		connectTimeout = DefaultConnectTimeout
	}
	if totalTimeout <= 0 {
		totalTimeout = DefaultTotalTimeout
	}
	d := &dialer{policy: p, resolver: resolverOr(r), timeout: connectTimeout}
	d.net = net.Dialer{ControlContext: d.control}
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.dial,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    connectTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           4 * conns,
		MaxIdleConnsPerHost:    conns,
		IdleConnTimeout:        60 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
	}
	return &http.Client{
		Transport: &transport{policy: p, base: t},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: totalTimeout,
	}
}

// transport refuses what the URL alone rules out before the base transport dials.
type transport struct {
	policy Policy
	base   *http.Transport
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL.Scheme, t.policy); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (t *transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

type dialer struct {
	policy   Policy
	resolver Resolver
	timeout  time.Duration
	net      net.Dialer
}

// dial is the transport's DialContext: it resolves address's host itself (so that tests can inject a resolver, and
// so that a refusal can name the host), refuses the lot if any address is not allowed, then tries the addresses in
// the resolver's order, each with a share of the connect timeout as net.Dialer does (at least 2 s, or what is
// left). The socket's ControlContext checks each address again as it connects.
func (d *dialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: port %s is not between 1 and 65535", ErrInvalidURL, portStr)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()

	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		if c := Classify(a); !d.policy.Allows(c) {
			return nil, fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, host, c.description())
		}
		addrs = []netip.Addr{a}
	} else {
		addrs, err = d.resolver.LookupNetIP(ctx, ipNetwork(network), host)
		if err != nil {
			return nil, lookupError(ctx, host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("%w: %s has no addresses", ErrUnresolvable, host)
		}
		for _, a := range addrs {
			if c := Classify(a); !d.policy.Allows(c) {
				return nil, fmt.Errorf("%w: %s resolved at connect time to %s", ErrForbiddenAddress, host, c.description())
			}
		}
	}

	var firstErr error
	for i, a := range addrs {
		dctx, dcancel := ctx, context.CancelFunc(func() {})
		if left := len(addrs) - i; left > 1 {
			if deadline, ok := ctx.Deadline(); ok {
				dctx, dcancel = context.WithDeadline(ctx, partialDeadline(time.Now(), deadline, left))
			}
		}
		conn, err := d.net.DialContext(dctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		dcancel()
		if err == nil {
			return conn, nil
		}
		if errors.Is(err, ErrForbiddenAddress) {
			// From control. Its *net.OpError would print the address; the host and the kind are enough.
			return nil, fmt.Errorf("%w: %s resolved at connect time to %s", ErrForbiddenAddress, host, Classify(a).description())
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// control runs after the socket is made and before it connects, with the address it is about to connect to.
func (d *dialer) control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot tell what address %q is", ErrForbiddenAddress, address)
	}
	if c := Classify(ap.Addr()); !d.policy.Allows(c) {
		return fmt.Errorf("%w: connecting to %s", ErrForbiddenAddress, c.description())
	}
	return nil
}

func ipNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	default:
		return "ip"
	}
}

// partialDeadline gives one of left addresses its share of the time to deadline, as net.Dialer does: an equal
// share, but no less than 2 s unless less than that remains.
func partialDeadline(now, deadline time.Time, left int) time.Time {
	remaining := deadline.Sub(now)
	share := remaining / time.Duration(left)
	const minimum = 2 * time.Second
	if share < minimum {
		share = min(minimum, remaining)
	}
	return now.Add(share)
}

// ReadLimited reads at most n bytes of r and returns them; r's error, if any, with what came before it. It never
// reads past n, so a receiver cannot make the caller read (or wait for) more than that. A response body that ends
// within n is read to its end and its connection goes back to the pool when the body is closed; a longer one is
// left unread, and closing it closes that connection instead: a small price for never reading more than n bytes
// from an untrusted server.
func ReadLimited(r io.Reader, n int) ([]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r, int64(n)))
}
