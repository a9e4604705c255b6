package outbound

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want Class
	}{
		// Public.
		{"93.184.216.34", ClassPublic},
		{"1.1.1.1", ClassPublic},
		{"8.8.8.8", ClassPublic},
		{"100.63.255.255", ClassPublic}, // just below 100.64/10
		{"100.128.0.0", ClassPublic},    // just above
		{"172.15.255.255", ClassPublic}, // just below 172.16/12
		{"172.32.0.0", ClassPublic},     // just above
		{"198.17.255.255", ClassPublic}, // just below 198.18/15
		{"198.20.0.0", ClassPublic},     // just above
		{"223.255.255.255", ClassPublic},
		{"2606:4700:4700::1111", ClassPublic},
		{"2001:200::1", ClassPublic}, // the first regular allocation after the IETF's 2001::/23
		{"::ffff:93.184.216.34", ClassPublic},
		{"64:ff9b::5db8:d822", ClassPublic}, // NAT64 of 93.184.216.34
		{"64:ff9b::1.1.1.1", ClassPublic},

		// Unspecified.
		{"0.0.0.0", ClassUnspecified},
		{"::", ClassUnspecified},
		{"::ffff:0.0.0.0", ClassUnspecified},

		// Loopback.
		{"127.0.0.1", ClassLoopback},
		{"127.255.255.254", ClassLoopback},
		{"::1", ClassLoopback},
		{"::ffff:127.0.0.1", ClassLoopback},
		{"64:ff9b::7f00:1", ClassLoopback}, // NAT64 embedding 127.0.0.1

		// Private.
		{"10.0.0.1", ClassPrivate},
		{"10.255.255.255", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"192.168.1.1", ClassPrivate},
		{"192.168.1.255", ClassPrivate}, // a directed broadcast is in its subnet's range
		{"fc00::1", ClassPrivate},
		{"fd12:3456::1", ClassPrivate},
		{"fec0::1", ClassPrivate},
		{"::ffff:10.0.0.1", ClassPrivate},
		{"64:ff9b::10.0.0.1", ClassPrivate},

		// Link-local.
		{"169.254.0.1", ClassLinkLocal},
		{"169.254.169.253", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"fe80::1%eth0", ClassLinkLocal},
		{"febf::1", ClassLinkLocal},

		// Carrier-grade NAT.
		{"100.64.0.1", ClassCGNAT},
		{"100.127.255.255", ClassCGNAT},

		// Multicast.
		{"224.0.0.1", ClassMulticast},
		{"239.255.255.250", ClassMulticast},
		{"ff02::1", ClassMulticast},
		{"ff05::1:3", ClassMulticast},

		// Broadcast.
		{"255.255.255.255", ClassBroadcast},

		// Cloud metadata.
		{"169.254.169.254", ClassMetadata},
		{"169.254.170.2", ClassMetadata},
		{"fd00:ec2::254", ClassMetadata},
		{"fd20:ce::254", ClassMetadata},
		{"100.100.100.200", ClassMetadata},
		{"192.0.0.192", ClassMetadata},
		{"168.63.129.16", ClassMetadata},
		{"::ffff:169.254.169.254", ClassMetadata},
		{"64:ff9b::a9fe:a9fe", ClassMetadata},

		// Documentation.
		{"192.0.2.1", ClassDocumentation},
		{"198.51.100.7", ClassDocumentation},
		{"203.0.113.255", ClassDocumentation},
		{"2001:db8::1", ClassDocumentation},
		{"3fff::1", ClassDocumentation},

		// Benchmarking.
		{"198.18.0.1", ClassBenchmarking},
		{"198.19.255.255", ClassBenchmarking},
		{"2001:2::1", ClassBenchmarking},

		// Reserved.
		{"0.1.2.3", ClassReserved},
		{"192.0.0.1", ClassReserved},
		{"192.88.99.1", ClassReserved},
		{"240.0.0.1", ClassReserved},
		{"255.255.255.254", ClassReserved},
		{"::127.0.0.1", ClassReserved},       // IPv4-compatible, deprecated
		{"::ffff:0:7f00:1", ClassReserved},   // IPv4-translated (SIIT)
		{"64:ff9b:1::7f00:1", ClassReserved}, // local-use NAT64
		{"100::1", ClassReserved},            // discard-only
		{"2001::1", ClassReserved},           // Teredo
		{"2001:20::1", ClassReserved},        // ORCHIDv2
		{"2002:7f00:1::1", ClassReserved},    // 6to4 of 127.0.0.1
		{"2002:5db8:d822::1", ClassReserved}, // 6to4 of a public address: refused whole
		{"5f00::1", ClassReserved},           // SRv6 SIDs
		{"4000::1", ClassReserved},           // unassigned, outside 2000::/3
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := Classify(netip.MustParseAddr(tt.addr))
			require.Equal(t, tt.want, got, "got %s, want %s", got, tt.want)
		})
	}
	require.Equal(t, ClassUnspecified, Classify(netip.Addr{}), "the zero Addr")
}

func TestPolicyAllows(t *testing.T) {
	t.Parallel()
	prod, dev := Policy{RequireHTTPS: true}, Policy{AllowPrivate: true}
	for c := ClassPublic; c <= ClassReserved; c++ {
		require.NotEqual(t, "unknown", c.String(), "class %d has a name", c)
		require.NotEqual(t, "an address of an unknown kind", c.description(), "class %s has a description", c)
		require.Equal(t, c == ClassPublic, prod.Allows(c), "production, %s", c)
		local := c == ClassPublic || c == ClassLoopback || c == ClassPrivate || c == ClassLinkLocal || c == ClassCGNAT
		require.Equal(t, local, dev.Allows(c), "AllowPrivate, %s", c)
	}
}
