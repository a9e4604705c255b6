// Package outbound makes HTTP requests to URLs that users supply without letting them reach what only the server
// can reach: its own loopback, the private network it sits in, the cloud's metadata service. A URL is checked
// twice by the same rules: by [CheckURL] when it is saved (a clear error for the person typing it), and by the
// client from [NewClient] on the address each connection actually dials, after its own DNS lookup, so that a name
// that resolved to a public address at save time and to 127.0.0.1 at send time (DNS rebinding) is refused. The
// rules are a [Policy]; the kinds of address are the [Class] constants.
//
// It knows nothing of what the requests are for: webhooks, or anything else that calls a user's URL.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest URL [CheckURL] accepts, in bytes.
const MaxURLLength = 2048

// The errors that [CheckURL] and the client wrap; test for them with errors.Is. Their messages say what is wrong
// in terms of what the user wrote: an address that a host name resolved to is described by its kind ("a loopback
// address"), never printed.
var (
	// ErrInvalidURL: the URL is malformed, or its form is not allowed (scheme, user name, length, host syntax).
	ErrInvalidURL = errors.New("invalid URL")
	// ErrForbiddenAddress: the destination is, or resolves to, an address the policy refuses.
	ErrForbiddenAddress = errors.New("destination not allowed")
	// ErrUnresolvable: the host name has no addresses, or the lookup failed.
	ErrUnresolvable = errors.New("host not resolved")
)

// Policy is what a destination may be. The zero value refuses every non-public address but allows http://;
// production sets RequireHTTPS, development and tests set AllowPrivate.
type Policy struct {
	// AllowPrivate lets requests reach loopback, private (RFC 1918, fc00::/7), link-local and carrier-grade NAT
	// addresses: local receivers in development and tests. Everything else that is refused stays refused even
	// then (cloud metadata, unspecified, multicast, broadcast, documentation, benchmarking, reserved): none of
	// it is a receiver, and a developer's machine in a cloud has a metadata service too.
	AllowPrivate bool
	// RequireHTTPS refuses http:// URLs, at save time and again when a request is sent.
	RequireHTTPS bool
}

// Allows says whether the policy lets a request go to an address of class c.
func (p Policy) Allows(c Class) bool {
	switch c {
	case ClassPublic:
		return true
	case ClassLoopback, ClassPrivate, ClassLinkLocal, ClassCGNAT:
		return p.AllowPrivate
	default:
		return false
	}
}

// Resolver looks up a host name's addresses. *net.Resolver (net.DefaultResolver) is one; tests pass their own.
// network is "ip", "ip4" or "ip6".
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func resolverOr(r Resolver) Resolver {
	if r == nil {
		return net.DefaultResolver
	}
	return r
}

// CheckURL says whether raw may be saved as a destination under p: an absolute http or https URL (https only
// when p.RequireHTTPS) of at most [MaxURLLength] bytes, with a host and no user name or password, whose host is
// an allowed IP address or a name whose every address, as r resolves it now, is allowed. A name with even one
// refused address is refused. IPv6 literals may not carry a zone. A host that ends in a number must be an IPv4
// address in dotted decimal: the other spellings that C libraries and browsers read as IPv4 (2130706433,
// 0x7f.1, 0177.0.0.1, 127.1) are refused, as forbidden when they spell a refused address and as invalid
// otherwise, since Go's resolver would send them to DNS as names while other software reads them as numbers.
// r nil means net.DefaultResolver; the lookup is bounded by ctx only.
//
// Passing the check says nothing about later: the client from [NewClient] checks again at every connection.
func CheckURL(ctx context.Context, raw string, p Policy, r Resolver) error {
	if raw == "" {
		return fmt.Errorf("%w: the URL is empty", ErrInvalidURL)
	}
	if len(raw) > MaxURLLength {
		return fmt.Errorf("%w: the URL is longer than %d characters", ErrInvalidURL, MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if err := checkScheme(u.Scheme, p); err != nil {
		return err
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: expected %s://host/path", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not contain a user name or password", ErrInvalidURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: the URL has no host", ErrInvalidURL)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %s is not between 1 and 65535", ErrInvalidURL, port)
		}
	}

	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return fmt.Errorf("%w: %s is not a valid IPv6 address", ErrInvalidURL, host)
		}
		if a.Zone() != "" {
			return fmt.Errorf("%w: an IPv6 address may not carry a zone (%%%s)", ErrInvalidURL, a.Zone())
		}
		return checkLiteral(host, a, p)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return checkLiteral(host, a, p)
	}
	if endsInNumber(host) {
		a, ok := parseLegacyIPv4(host)
		if !ok {
			return fmt.Errorf("%w: %s is neither a host name nor an IPv4 address", ErrInvalidURL, host)
		}
		if c := Classify(a); !p.Allows(c) {
			return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, host, c.description())
		}
		return fmt.Errorf("%w: write the IPv4 address %s as four decimal numbers: %s", ErrInvalidURL, host, a)
	}
	if err := checkHostName(host); err != nil {
		return err
	}

	addrs, err := resolverOr(r).LookupNetIP(ctx, "ip", host)
	if err != nil {
		return lookupError(ctx, host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: %s has no addresses", ErrUnresolvable, host)
	}
	for _, a := range addrs {
		if c := Classify(a); !p.Allows(c) {
			return fmt.Errorf("%w: %s resolves to %s", ErrForbiddenAddress, host, c.description())
		}
	}
	return nil
}

func checkScheme(scheme string, p Policy) error {
	switch {
	case scheme == "https":
		return nil
	case scheme == "http" && !p.RequireHTTPS:
		return nil
	case scheme == "http":
		return fmt.Errorf("%w: the URL must use https", ErrInvalidURL)
	case p.RequireHTTPS:
		return fmt.Errorf("%w: the URL must start with https://", ErrInvalidURL)
	default:
		return fmt.Errorf("%w: the URL must start with http:// or https://", ErrInvalidURL)
	}
}

func checkLiteral(host string, a netip.Addr, p Policy) error {
	if c := Classify(a); !p.Allows(c) {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, host, c.description())
	}
	return nil
}

// lookupError words a failed lookup without the resolver's own text, which names the DNS server.
func lookupError(ctx context.Context, host string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: looking up %s: %w", ErrUnresolvable, host, ctxErr)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return fmt.Errorf("%w: %s does not exist", ErrUnresolvable, host)
	}
	return fmt.Errorf("%w: %s could not be looked up; try again later", ErrUnresolvable, host)
}

// checkHostName accepts DNS names in ASCII: labels of letters, digits, hyphens and underscores, 1 to 63 bytes each,
// 253 in all, with an optional trailing dot. url.Parse lets through more (sub-delims, non-ASCII) than any resolver
// would look up.
func checkHostName(host string) error {
	name := strings.TrimSuffix(host, ".")
	if len(name) > 253 {
		return fmt.Errorf("%w: the host name is longer than 253 characters", ErrInvalidURL)
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			return fmt.Errorf("%w: write the international host name %s in its ASCII form (xn--...)", ErrInvalidURL, host)
		}
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%w: %s is not a valid host name", ErrInvalidURL, host)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%w: %s is not a valid host name", ErrInvalidURL, host)
			}
		}
	}
	return nil
}

// endsInNumber is the WHATWG URL standard's test for a host that is to be read as IPv4: its last label (after one
// trailing dot) is all decimal digits, or 0x followed by hex digits. No top-level domain is numeric.
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	if last == "" && len(labels) > 1 {
		last = labels[len(labels)-2]
	}
	if last == "" {
		return false
	}
	if allIn(last, "0123456789") {
		return true
	}
	return len(last) >= 2 && (last[:2] == "0x" || last[:2] == "0X") && allIn(last[2:], "0123456789abcdefABCDEF")
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(set, rune(s[i])) {
			return false
		}
	}
	return true
}

// parseLegacyIPv4 reads host as the WHATWG URL standard's IPv4 parser does, which is what inet_aton and so
// getaddrinfo accept too: one to four dot-separated numbers, each decimal, octal (leading 0) or hex (0x), the last
// filling the remaining bytes: 2130706433, 0x7f.1 and 0177.0.0.1 are all 127.0.0.1.
func parseLegacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, s := range parts {
		n, ok := parseLegacyNumber(s)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseLegacyNumber(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}
