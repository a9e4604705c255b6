package clientip

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"direct", "203.0.113.7:5000", nil, proxies, "203.0.113.7"},
		{"header from an untrusted peer is ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"no trusted proxies configured", "10.0.0.1:5000", []string{"198.51.100.1"}, nil, "10.0.0.1"},
		{"one trusted proxy", "10.0.0.1:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.1:5000", []string{"198.51.100.1, 10.0.0.2, 10.0.0.3"}, proxies, "198.51.100.1"},
		{"spoofed prefix is skipped", "10.0.0.1:5000", []string{"1.2.3.4, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"several headers", "10.0.0.1:5000", []string{"1.2.3.4", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbled hop stops the walk", "10.0.0.1:5000", []string{"1.2.3.4, garbage, 10.0.0.9"}, proxies, "10.0.0.9"},
		{"all hops trusted", "10.0.0.1:5000", []string{"10.0.0.5"}, proxies, "10.0.0.5"},
		{"IPv6 peer", "[::1]:5000", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.7]:5000", nil, proxies, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, h := range tt.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			require.Equal(t, tt.want, Of(r, tt.trusted).String())
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:203.0.113.7":   "::ffff:203.0.113.7",
	} {
		require.Equal(t, want, Key(netip.MustParseAddr(in)), in)
	}
}
