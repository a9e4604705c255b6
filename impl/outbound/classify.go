package outbound

import (
	"net/netip"
)

// Class is the kind of address a destination is, as far as outbound requests care: [ClassPublic] or one of the
// refused kinds. [Classify] decides; [Policy.Allows] says which classes a policy lets through.
type Class uint8

// The classes, with the ranges each covers. A range that sits inside a broader one (a metadata address inside
// link-local, documentation inside the IETF's 2001::/23) takes the narrower, more telling class.
const (
	// ClassPublic is every address in none of the ranges below: a globally routable unicast address.
	ClassPublic Class = iota
	// ClassUnspecified: 0.0.0.0 and ::. Not a destination, though Linux connects 0.0.0.0 to the local host.
	ClassUnspecified
	// ClassLoopback: 127.0.0.0/8 and ::1.
	ClassLoopback
	// ClassPrivate: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918), fc00::/7 (unique local, RFC 4193) and
	// fec0::/10 (site-local, deprecated by RFC 3879 but still the same idea).
	ClassPrivate
	// ClassLinkLocal: 169.254.0.0/16 and fe80::/10.
	ClassLinkLocal
	// ClassCGNAT: 100.64.0.0/10, the shared address space of carrier-grade NAT (RFC 6598), which clouds also use
	// inside their networks.
	ClassCGNAT
	// ClassMulticast: 224.0.0.0/4 and ff00::/8.
	ClassMulticast
	// ClassBroadcast: 255.255.255.255. (A subnet's directed broadcast lies in that subnet's own range.)
	ClassBroadcast
	// ClassMetadata: the cloud instance-metadata and platform endpoints, which hand out credentials to whoever on
	// the machine asks: 169.254.169.254 (AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack), 169.254.170.2 (AWS
	// ECS task credentials), fd00:ec2::254 (AWS IMDS over IPv6), fd20:ce::254 (GCP over IPv6), 100.100.100.200
	// (Alibaba Cloud), 192.0.0.192 (an Oracle Cloud metadata address) and 168.63.129.16 (Azure's WireServer, a public
	// address that only the Azure host answers). All but the last already lie in a refused range; naming them
	// makes the error say what was at stake, and keeps them refused even when private targets are allowed.
	ClassMetadata
	// ClassDocumentation: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737), 2001:db8::/32 (RFC 3849) and
	// 3fff::/20 (RFC 9637): reserved for examples, never routed.
	ClassDocumentation
	// ClassBenchmarking: 198.18.0.0/15 (RFC 2544) and 2001:2::/48 (RFC 5180). Some VPN and proxy tools hand out
	// 198.18/15 as "fake" addresses for every name, which is one more reason not to connect there.
	ClassBenchmarking
	// ClassReserved: the rest of the special-purpose space. IPv4: 0.0.0.0/8 ("this network"), 192.0.0.0/24 (IETF
	// protocol assignments), 192.88.99.0/24 (the retired 6to4 relay anycast) and 240.0.0.0/4 (future use).
	// IPv6: everything outside 2000::/3 that no class above names (IPv4-compatible ::/96, IPv4-translated
	// ::ffff:0:0:0/96, the discard prefix 100::/64, the local-use NAT64 prefix 64:ff9b:1::/48, SRv6's 5f00::/16,
	// unassigned space), and inside 2000::/3 the IETF's 2001::/23 (Teredo, ORCHID, AMT, ...) and 6to4's
	// 2002::/16. Teredo and 6to4 are legacy tunnels (6to4's relays deprecated by RFC 7526) whose addresses embed
	// an IPv4 address the tunnel would carry packets to; no receiver is served from them, so they are refused
	// whole rather than decoded.
	ClassReserved
)

var classNames = [...]string{
	ClassPublic:        "public",
	ClassUnspecified:   "unspecified",
	ClassLoopback:      "loopback",
	ClassPrivate:       "private",
	ClassLinkLocal:     "link-local",
	ClassCGNAT:         "carrier-grade NAT",
	ClassMulticast:     "multicast",
	ClassBroadcast:     "broadcast",
	ClassMetadata:      "cloud metadata",
	ClassDocumentation: "documentation",
	ClassBenchmarking:  "benchmarking",
	ClassReserved:      "reserved",
}

// What each class is, in words for the person who typed the URL.
var classDescriptions = [...]string{
	ClassPublic:        "a public address",
	ClassUnspecified:   "the unspecified address (0.0.0.0 or ::), which is not a destination",
	ClassLoopback:      "a loopback address (127.0.0.0/8 or ::1), which is this server itself",
	ClassPrivate:       "a private network address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fc00::/7)",
	ClassLinkLocal:     "a link-local address (169.254.0.0/16 or fe80::/10)",
	ClassCGNAT:         "a carrier-grade NAT address (100.64.0.0/10), which is not reachable from the internet",
	ClassMulticast:     "a multicast address (224.0.0.0/4 or ff00::/8)",
	ClassBroadcast:     "the broadcast address",
	ClassMetadata:      "a cloud metadata service address",
	ClassDocumentation: "an address reserved for documentation, which is never routed",
	ClassBenchmarking:  "an address reserved for benchmarking (198.18.0.0/15), which is not reachable from the internet",
	ClassReserved:      "a reserved special-purpose address, which is not reachable from the internet",
}

// String is the class's short name ("loopback", "cloud metadata").
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

func (c Class) description() string {
	if int(c) < len(classDescriptions) {
		return classDescriptions[c]
	}
	return "an address of an unknown kind"
}

type classRange struct {
	prefix netip.Prefix
	class  Class
}

// Most specific first: the first range that contains an address gives its class.
var v4Ranges = ranges(
	"169.254.169.254/32", ClassMetadata,
	"169.254.170.2/32", ClassMetadata,
	"100.100.100.200/32", ClassMetadata,
	"192.0.0.192/32", ClassMetadata,
	"168.63.129.16/32", ClassMetadata,
	"0.0.0.0/32", ClassUnspecified,
	"255.255.255.255/32", ClassBroadcast,
	"0.0.0.0/8", ClassReserved,
	"10.0.0.0/8", ClassPrivate,
	"100.64.0.0/10", ClassCGNAT,
	"127.0.0.0/8", ClassLoopback,
	"169.254.0.0/16", ClassLinkLocal,
	"172.16.0.0/12", ClassPrivate,
	"192.0.0.0/24", ClassReserved,
	"192.0.2.0/24", ClassDocumentation,
	"192.88.99.0/24", ClassReserved,
	"192.168.0.0/16", ClassPrivate,
	"198.18.0.0/15", ClassBenchmarking,
	"198.51.100.0/24", ClassDocumentation,
	"203.0.113.0/24", ClassDocumentation,
	"224.0.0.0/4", ClassMulticast,
	"240.0.0.0/4", ClassReserved,
)

// IPv6 inside 2000::/3 (global unicast) that is nonetheless refused; outside 2000::/3, v6Outside names the
// classes and everything else is reserved. ::ffff:0:0/96 and 64:ff9b::/96 never get here: Classify judges the
// IPv4 address they carry.
var v6Global = ranges(
	"2001:2::/48", ClassBenchmarking,
	"2001:db8::/32", ClassDocumentation,
	"2001::/23", ClassReserved,
	"2002::/16", ClassReserved,
	"3fff::/20", ClassDocumentation,
)

var v6Outside = ranges(
	"::/128", ClassUnspecified,
	"::1/128", ClassLoopback,
	"fd00:ec2::254/128", ClassMetadata,
	"fd20:ce::254/128", ClassMetadata,
	"fc00::/7", ClassPrivate,
	"fe80::/10", ClassLinkLocal,
	"fec0::/10", ClassPrivate,
	"ff00::/8", ClassMulticast,
)

var (
	globalUnicast = netip.MustParsePrefix("2000::/3")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
)

func ranges(pairs ...any) []classRange {
	out := make([]classRange, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, classRange{netip.MustParsePrefix(pairs[i].(string)), pairs[i+1].(Class)})
	}
	return out
}

func lookup(rs []classRange, a netip.Addr) (Class, bool) {
	for _, r := range rs {
		if r.prefix.Contains(a) {
			return r.class, true
		}
	}
	return 0, false
}

// Classify says what kind of address a is. An IPv6 zone is ignored. An IPv4-mapped IPv6 address
// (::ffff:127.0.0.1) is the IPv4 address it maps, and so is an address in NAT64's well-known prefix
// 64:ff9b::/96 (RFC 6052): a NAT64 gateway connects to the IPv4 address in its last 32 bits, so that address is
// the real destination, and judging it lets IPv6-only hosts behind DNS64 reach public IPv4 receivers while
// 64:ff9b::7f00:1 stays loopback. The invalid (zero) Addr is [ClassUnspecified].
func Classify(a netip.Addr) Class {
	if !a.IsValid() {
		return ClassUnspecified
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		if c, ok := lookup(v4Ranges, a); ok {
			return c
		}
		return ClassPublic
	}
	if nat64.Contains(a) {
		b := a.As16()
		return Classify(netip.AddrFrom4([4]byte(b[12:])))
	}
	if globalUnicast.Contains(a) {
		if c, ok := lookup(v6Global, a); ok {
			return c
		}
		return ClassPublic
	}
	if c, ok := lookup(v6Outside, a); ok {
		return c
	}
	return ClassReserved
}
