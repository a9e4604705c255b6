// Package accept weighs media types by a request's Accept header, as RFC 9110 (section 12.5.1) says: each media
// type takes the weight (q) of the most specific media range that matches it, type/subtype over type/* over */*.
// The REST transport asks it which error representation a client prefers; it knows nothing of either.
package accept

import (
	"strconv"
	"strings"
)

// Prefers reports whether the Accept field values (every Accept line of a request, in order) weigh mediaType a
// strictly above mediaType b. A tie is not a preference: with no Accept, with */*, or with both at one weight,
// a client that has always received b keeps it. Media types are "type/subtype", without parameters.
func Prefers(values []string, a, b string) bool {
	ranges := parse(values)
	return ranges.quality(a) > ranges.quality(b)
}

// Quality is the weight, from 0 to 1, that the Accept field values give mediaType: the q of the most specific
// range that matches it (the highest q when ranges of that specificity repeat), 0 when none does, and 1 when
// there is no usable Accept at all, which RFC 9110 reads as "anything".
func Quality(values []string, mediaType string) float64 {
	return parse(values).quality(mediaType)
}

// mediaRange is one element of Accept: "type/subtype", "type/*" or "*/*", lowercased, with its weight.
type mediaRange struct {
	typ, subtype string
	q            float64
}

type ranges []mediaRange

// quality implements Quality over parsed ranges.
func (rs ranges) quality(mediaType string) float64 {
	if len(rs) == 0 {
		return 1
	}
	typ, subtype, ok := strings.Cut(strings.ToLower(mediaType), "/")
	if !ok {
		return 0
	}
	best, q := 0, 0.0
	for _, r := range rs {
		var specificity int
		switch {
		case r.typ == typ && r.subtype == subtype:
			specificity = 3
		case r.typ == typ && r.subtype == "*":
			specificity = 2
		case r.typ == "*" && r.subtype == "*":
			specificity = 1
		default:
			continue
		}
		if specificity > best || specificity == best && r.q > q {
			best, q = specificity, r.q
		}
	}
	return q
}

// parse reads the Accept field values. An element that is not a media range, or whose weight is not a qvalue,
// is skipped rather than failing the whole field: a client's typo in one range should not cost it the others.
// Parameters other than q are ignored: no error representation of this API has any, so a range that names one
// (application/json;charset=utf-8) is taken to mean its type.
func parse(values []string) ranges {
	var out ranges
	for _, v := range values {
		for _, elem := range split(v, ',') {
			if r, ok := parseRange(elem); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

func parseRange(elem string) (mediaRange, bool) {
	parts := split(elem, ';')
	mr := strings.ToLower(strings.TrimSpace(parts[0]))
	typ, subtype, ok := strings.Cut(mr, "/")
	if !ok || !isToken(typ) || !isToken(subtype) || typ == "*" && subtype != "*" {
		return mediaRange{}, false
	}
	r := mediaRange{typ: typ, subtype: subtype, q: 1}
	for _, p := range parts[1:] {
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, ok := parseQValue(strings.TrimSpace(value))
		if !ok {
			return mediaRange{}, false
		}
		r.q = q
		break // RFC 9110: what follows the weight is not the media type's
	}
	return r, true
}

// parseQValue reads RFC 9110's qvalue: 0 to 1 with at most three decimals.
func parseQValue(s string) (float64, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') || len(s) > 1 && s[1] != '.' {
		return 0, false
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 || strings.ContainsAny(s, "eE+-") {
		return 0, false
	}
	return q, true
}

// split cuts s at sep outside quoted strings, so that a parameter's quoted value may hold either separator.
func split(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// isToken reports whether s is a non-empty RFC 9110 token (tchar*), as type and subtype must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
