package outbound

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeResolver answers from a table; a name not in it does not exist. It records the names it was asked for.
type fakeResolver struct {
	mu    sync.Mutex
	names map[string][]string
	asked []string
}

func resolverOf(names map[string][]string) *fakeResolver { return &fakeResolver{names: names} }

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	if host == "dns-down.test" {
		return nil, &net.DNSError{Err: "i/o timeout", Name: host, Server: "10.255.255.53:53", IsTimeout: true}
	}
	list, ok := r.names[strings.ToLower(strings.TrimSuffix(host, "."))] // as DNS would
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.255.255.53:53", IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range list {
		a := netip.MustParseAddr(s)
		if network == "ip" || network == "ip4" && a.Unmap().Is4() || network == "ip6" && !a.Unmap().Is4() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (r *fakeResolver) lookups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.asked...)
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	names := map[string][]string{
		"example.com":       {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"mapped.test":       {"::ffff:93.184.216.34"}, // what net.DefaultResolver returns for IPv4 on some systems
		"nat64.test":        {"64:ff9b::5db8:d822"},
		"localhost":         {"127.0.0.1", "::1"},
		"loopback.test":     {"::ffff:127.0.0.1"},
		"internal.test":     {"10.1.2.3"},
		"half-private.test": {"93.184.216.34", "10.1.2.3"},
		"ula.test":          {"fd12::1"},
		"linklocal.test":    {"169.254.10.10"},
		"cgnat.test":        {"100.64.1.1"},
		"metadata.test":     {"169.254.169.254"},
		"imds6.test":        {"fd00:ec2::254"},
		"alibaba.test":      {"100.100.100.200"},
		"multicast.test":    {"239.1.1.1"},
		"doc.test":          {"192.0.2.10"},
		"bench.test":        {"198.18.0.1"},
		"nat64-lo.test":     {"64:ff9b::7f00:1"},
		"empty.test":        {},
	}
	prod := Policy{RequireHTTPS: true}
	prodHTTP := Policy{} // addresses as in production, http allowed, to test addresses through http:// too
	dev := Policy{AllowPrivate: true}
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/"))

	tests := []struct {
		name   string
		url    string
		policy Policy
		want   error  // nil, or the sentinel
		msg    string // a part of the message
	}{
		// Accepted.
		{"public IPv4 literal", "https://93.184.216.34/hook", prod, nil, ""},
		{"public IPv6 literal", "https://[2606:4700:4700::1111]:8443/hook", prod, nil, ""},
		{"IPv4-mapped public", "https://[::ffff:93.184.216.34]/", prod, nil, ""},
		{"NAT64 of a public address", "https://[64:ff9b::5db8:d822]/", prod, nil, ""},
		{"name with public addresses", "https://example.com/hooks?x=1#frag", prod, nil, ""},
		{"name resolving to a mapped public address", "https://mapped.test/", prod, nil, ""},
		{"name resolving to NAT64 of a public address", "https://nat64.test/", prod, nil, ""},
		{"trailing dot and upper case", "HTTPS://Example.COM./", prod, nil, ""},
		{"http when https is not required", "http://example.com/", prodHTTP, nil, ""},
		{"at the length limit", long, prod, nil, ""},
		{"empty port", "https://example.com:/", prod, nil, ""},
		{"loopback with AllowPrivate", "http://127.0.0.1:8080/hook", dev, nil, ""},
		{"IPv6 loopback with AllowPrivate", "http://[::1]:8080/hook", dev, nil, ""},
		{"localhost with AllowPrivate", "http://localhost:8080/hook", dev, nil, ""},
		{"private with AllowPrivate", "http://10.1.2.3/", dev, nil, ""},
		{"private name with AllowPrivate", "http://internal.test/", dev, nil, ""},
		{"link-local with AllowPrivate", "http://169.254.10.10/", dev, nil, ""},
		{"CGNAT with AllowPrivate", "http://100.64.1.1/", dev, nil, ""},
		{"ULA with AllowPrivate", "http://[fd12::1]/", dev, nil, ""},

		// The form of the URL.
		{"empty", "", prod, ErrInvalidURL, "empty"},
		{"too long", long + "a", prod, ErrInvalidURL, "longer than 2048"},
		{"http when https is required", "http://example.com/", prod, ErrInvalidURL, "must use https"},
		{"no scheme", "example.com/hook", prod, ErrInvalidURL, "must start with https://"},
		{"scheme-relative", "//example.com/hook", prodHTTP, ErrInvalidURL, "must start with http:// or https://"},
		{"ftp", "ftp://example.com/", prodHTTP, ErrInvalidURL, "must start with http:// or https://"},
		{"javascript", "javascript:alert(1)", prodHTTP, ErrInvalidURL, "must start with"},
		{"opaque", "https:example.com", prod, ErrInvalidURL, "expected https://host/path"},
		{"user and password", "https://user:pass@example.com/", prod, ErrInvalidURL, "user name or password"},
		{"user only", "https://user@example.com/", prod, ErrInvalidURL, "user name or password"},
		{"no host", "https:///hook", prod, ErrInvalidURL, "no host"},
		{"port only", "https://:443/", prod, ErrInvalidURL, "no host"},
		{"port 0", "https://example.com:0/", prod, ErrInvalidURL, "between 1 and 65535"},
		{"port too large", "https://example.com:65536/", prod, ErrInvalidURL, "between 1 and 65535"},
		{"space in host", "https://exa mple.com/", prod, ErrInvalidURL, "invalid character"},
		{"unparsable", "https://[::1/", prod, ErrInvalidURL, "missing ']'"},
		{"IPv6 zone", "http://[fe80::1%25eth0]/", dev, ErrInvalidURL, "zone"},
		{"bad IPv6 literal", "https://[::zz]/", prod, ErrInvalidURL, "invalid"},          // url.Parse says so
		{"IPv4 in brackets", "https://[93.184.216.34]/", prod, ErrInvalidURL, "invalid"}, // url.Parse says so
		{"non-ASCII host", "https://bücher.example/", prod, ErrInvalidURL, "xn--"},
		{"sub-delims in host", "https://exa$mple.com/", prod, ErrInvalidURL, "not a valid host name"},
		{"empty label", "https://example..com/", prod, ErrInvalidURL, "not a valid host name"},
		{"label too long", "https://" + strings.Repeat("a", 64) + ".com/", prod, ErrInvalidURL, "not a valid host name"},

		// Refused addresses, as literals.
		{"loopback", "https://127.0.0.1/", prod, ErrForbiddenAddress, "127.0.0.1 is a loopback address"},
		{"loopback, other", "https://127.9.9.9/", prod, ErrForbiddenAddress, "loopback"},
		{"IPv6 loopback", "https://[::1]/", prod, ErrForbiddenAddress, "loopback"},
		{"IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/", prod, ErrForbiddenAddress, "loopback"},
		{"IPv4-mapped loopback in hex", "https://[::ffff:7f00:1]/", prod, ErrForbiddenAddress, "loopback"},
		{"IPv4-mapped loopback, long form", "https://[0:0:0:0:0:ffff:127.0.0.1]/", prod, ErrForbiddenAddress, "loopback"},
		{"NAT64 of loopback", "https://[64:ff9b::127.0.0.1]/", prod, ErrForbiddenAddress, "loopback"},
		{"unspecified", "https://0.0.0.0/", prod, ErrForbiddenAddress, "unspecified"},
		{"IPv6 unspecified", "https://[::]/", prod, ErrForbiddenAddress, "unspecified"},
		{"10/8", "https://10.0.0.1/", prod, ErrForbiddenAddress, "private"},
		{"172.16/12", "https://172.20.1.1/", prod, ErrForbiddenAddress, "private"},
		{"192.168/16", "https://192.168.0.1/", prod, ErrForbiddenAddress, "private"},
		{"fc00::/7", "https://[fd00::1]/", prod, ErrForbiddenAddress, "private"},
		{"169.254/16", "https://169.254.1.1/", prod, ErrForbiddenAddress, "link-local"},
		{"fe80::/10", "https://[fe80::1]/", prod, ErrForbiddenAddress, "link-local"},
		{"CGNAT", "https://100.64.0.1/", prod, ErrForbiddenAddress, "carrier-grade NAT"},
		{"multicast", "https://224.0.0.1/", prod, ErrForbiddenAddress, "multicast"},
		{"IPv6 multicast", "https://[ff02::1]/", prod, ErrForbiddenAddress, "multicast"},
		{"broadcast", "https://255.255.255.255/", prod, ErrForbiddenAddress, "broadcast"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", prodHTTP, ErrForbiddenAddress, "cloud metadata"},
		{"AWS IPv6 metadata", "http://[fd00:ec2::254]/", prodHTTP, ErrForbiddenAddress, "cloud metadata"},
		{"Alibaba metadata", "http://100.100.100.200/", prodHTTP, ErrForbiddenAddress, "cloud metadata"},
		{"Azure WireServer", "http://168.63.129.16/", prodHTTP, ErrForbiddenAddress, "cloud metadata"},
		{"this network 0/8", "https://0.1.2.3/", prod, ErrForbiddenAddress, "reserved"},
		{"IETF 192.0.0/24", "https://192.0.0.8/", prod, ErrForbiddenAddress, "reserved"},
		{"benchmarking", "https://198.18.0.1/", prod, ErrForbiddenAddress, "benchmarking"},
		{"future use 240/4", "https://240.0.0.1/", prod, ErrForbiddenAddress, "reserved"},
		{"documentation", "https://192.0.2.1/", prod, ErrForbiddenAddress, "documentation"},
		{"IPv6 documentation", "https://[2001:db8::1]/", prod, ErrForbiddenAddress, "documentation"},
		{"6to4", "https://[2002:7f00:1::1]/", prod, ErrForbiddenAddress, "reserved"},
		{"IPv4-compatible", "https://[::127.0.0.1]/", prod, ErrForbiddenAddress, "reserved"},

		// Numbers that C libraries and browsers read as IPv4, which Go's parsers do not.
		{"decimal integer", "http://2130706433/", prodHTTP, ErrForbiddenAddress, "2130706433 is a loopback address"},
		{"hex and short", "http://0x7f.1/", prodHTTP, ErrForbiddenAddress, "loopback"},
		{"hex octets", "http://0x7f.0x0.0x0.0x1/", prodHTTP, ErrForbiddenAddress, "loopback"},
		{"octal", "http://0177.0.0.1/", prodHTTP, ErrForbiddenAddress, "loopback"},
		{"leading zero", "http://127.0.0.01/", prodHTTP, ErrForbiddenAddress, "loopback"},
		{"two parts", "http://127.1/", prodHTTP, ErrForbiddenAddress, "loopback"},
		{"three parts", "http://10.0.258/", prodHTTP, ErrForbiddenAddress, "private"},
		{"trailing dot", "http://127.0.0.1./", prodHTTP, ErrForbiddenAddress, "loopback"},
		{"metadata as an integer", "http://2852039166/", prodHTTP, ErrForbiddenAddress, "cloud metadata"},
		{"zero", "http://0/", prodHTTP, ErrForbiddenAddress, "unspecified"},
		{"still refused with AllowPrivate, as invalid", "http://2130706433/", dev, ErrInvalidURL, "as four decimal numbers: 127.0.0.1"},
		{"public as an integer", "http://1572395042/", prodHTTP, ErrInvalidURL, "as four decimal numbers: 93.184.216.34"},
		{"five parts", "http://1.2.3.4.5/", prodHTTP, ErrInvalidURL, "neither a host name nor an IPv4 address"},
		{"octet too large", "http://256.0.0.1/", prodHTTP, ErrInvalidURL, "neither"},
		{"last part too large", "http://1.2.65536/", prodHTTP, ErrInvalidURL, "neither"},
		{"bad octal", "http://08.0.0.1/", prodHTTP, ErrInvalidURL, "neither"},
		{"numeric last label", "http://example.123/", prodHTTP, ErrInvalidURL, "neither"},

		// Refused addresses, by name.
		{"localhost", "https://localhost/", prod, ErrForbiddenAddress, "localhost resolves to a loopback address"},
		{"mapped loopback", "https://loopback.test/", prod, ErrForbiddenAddress, "loopback"},
		{"private name", "https://internal.test/", prod, ErrForbiddenAddress, "private"},
		{"one private among public", "https://half-private.test/", prod, ErrForbiddenAddress, "private"},
		{"ULA name", "https://ula.test/", prod, ErrForbiddenAddress, "private"},
		{"link-local name", "https://linklocal.test/", prod, ErrForbiddenAddress, "link-local"},
		{"CGNAT name", "https://cgnat.test/", prod, ErrForbiddenAddress, "carrier-grade NAT"},
		{"metadata name", "https://metadata.test/", prod, ErrForbiddenAddress, "cloud metadata"},
		{"IPv6 metadata name", "https://imds6.test/", prod, ErrForbiddenAddress, "cloud metadata"},
		{"Alibaba metadata name", "https://alibaba.test/", prod, ErrForbiddenAddress, "cloud metadata"},
		{"multicast name", "https://multicast.test/", prod, ErrForbiddenAddress, "multicast"},
		{"documentation name", "https://doc.test/", prod, ErrForbiddenAddress, "documentation"},
		{"benchmarking name", "https://bench.test/", prod, ErrForbiddenAddress, "benchmarking"},
		{"NAT64 loopback name", "https://nat64-lo.test/", prod, ErrForbiddenAddress, "loopback"},

		// AllowPrivate does not open everything.
		{"metadata with AllowPrivate", "http://169.254.169.254/", dev, ErrForbiddenAddress, "cloud metadata"},
		{"metadata name with AllowPrivate", "http://metadata.test/", dev, ErrForbiddenAddress, "cloud metadata"},
		{"unspecified with AllowPrivate", "http://0.0.0.0:8080/", dev, ErrForbiddenAddress, "unspecified"},
		{"multicast with AllowPrivate", "http://224.0.0.1/", dev, ErrForbiddenAddress, "multicast"},
		{"documentation with AllowPrivate", "http://192.0.2.1/", dev, ErrForbiddenAddress, "documentation"},

		// Names that do not resolve.
		{"no such host", "https://nowhere.test/", prod, ErrUnresolvable, "nowhere.test does not exist"},
		{"DNS failure", "https://dns-down.test/", prod, ErrUnresolvable, "try again later"},
		{"no addresses", "https://empty.test/", prod, ErrUnresolvable, "no addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckURL(context.Background(), tt.url, tt.policy, resolverOf(names))
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			require.Contains(t, err.Error(), tt.msg)
			for _, other := range []error{ErrInvalidURL, ErrForbiddenAddress, ErrUnresolvable} {
				if other != tt.want {
					require.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

// A refusal names the host the user wrote and the kind of address, never an address it resolved to, nor the DNS
// server that a lookup error would mention.
func TestCheckURLDoesNotEchoResolvedAddresses(t *testing.T) {
	t.Parallel()
	r := resolverOf(map[string][]string{"internal.test": {"10.1.2.3"}, "meta.test": {"169.254.169.254"}})
	for _, raw := range []string{"https://internal.test/", "https://meta.test/", "https://nowhere.test/", "https://dns-down.test/"} {
		err := CheckURL(context.Background(), raw, Policy{}, r)
		require.Error(t, err, raw)
		u, _ := url.Parse(raw)
		require.Contains(t, err.Error(), u.Hostname())
		for _, leak := range []string{"10.1.2.3", "169.254", "10.255.255.53"} {
			require.NotContains(t, err.Error(), leak, raw)
		}
	}
}

// IP literals, and the numeric spellings that are refused, are judged without a lookup: Go's resolver would send
// 2130706433 to DNS as a name, while a cgo (getaddrinfo) resolver reads it as 127.0.0.1.
func TestCheckURLLooksUpOnlyNames(t *testing.T) {
	t.Parallel()
	r := resolverOf(map[string][]string{"example.com": {"93.184.216.34"}})
	for _, raw := range []string{"https://93.184.216.34/", "https://[::1]/", "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://1.2.3.4.5/"} {
		_ = CheckURL(context.Background(), raw, Policy{}, r)
	}
	require.Empty(t, r.lookups())
	require.NoError(t, CheckURL(context.Background(), "https://example.com/", Policy{}, r))
	require.Equal(t, []string{"example.com"}, r.lookups())
}

func TestCheckURLStopsWithTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := CheckURL(ctx, "https://example.invalid/", Policy{}, nil) // the real resolver, which sees ctx is done
	require.ErrorIs(t, err, ErrUnresolvable)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestParseLegacyIPv4(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" for not an address
	}{
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"10.0.258", "10.0.1.2"},
		{"0X7F.0.0.1", "127.0.0.1"},
		{"0x.0x.0x.0x", "0.0.0.0"},
		{"1.2.3.4.", "1.2.3.4"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"1.2.3.4.5", ""},
		{"256.1", ""},
		{"1.2.3.256", ""},
		{"08", ""},
		{"0xg", ""},
		{"1..2", ""},
		{".", ""},
		{"+1.2.3.4", ""},
		{"99999999999999999999999", ""},
	}
	for _, tt := range tests {
		a, ok := parseLegacyIPv4(tt.in)
		if tt.want == "" {
			require.False(t, ok, "%q gave %v", tt.in, a)
			continue
		}
		require.True(t, ok, tt.in)
		require.Equal(t, tt.want, a.String(), tt.in)
	}
}
