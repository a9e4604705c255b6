// Package etag is HTTP's entity-tags for the API's resources (RFC 9110, section 8.8.3) and the If-Match and
// If-None-Match preconditions compared with them (section 13.1). A resource's tag is made from the version the
// database keeps of its row and raises with every change (migrations/00016), never from a hash of what was read:
// so a write can compare it in its own statement, and a read can answer 304 without encoding anything.
package etag

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/service"
)

// Of is the strong entity-tag of a resource at version v: the version, quoted.
func Of(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// Member is one resource embedded in another's representation, such as a post in a user's include=posts.
type Member struct {
	ID      uuid.UUID
	Version int64
}

// WithMembers is the strong entity-tag of a representation of a resource at version v that embeds members, in
// their order: it changes when the resource does and when any member changes, goes or comes. It never equals a
// plain [Of] tag, so a write's If-Match cannot be met with it.
func WithMembers(v int64, members []Member) string {
	h := sha256.New()
	var b [24]byte
	for _, m := range members {
		copy(b[:16], m.ID[:])
		binary.BigEndian.PutUint64(b[16:], uint64(m.Version))
		_, _ = h.Write(b[:])
	}
	// 128 bits of the digest: two representations share a tag only by a collision no one will meet.
	return `"` + strconv.FormatInt(v, 10) + "-" + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// IfMatch is the precondition that an If-Match field value (its lines joined with commas) sets on a write:
// [service.MatchAny] for "" (no header) and "*"; otherwise the versions of the listed strong tags of [Of]'s form.
// Weak tags and tags of other forms are kept out, as the strong comparison of RFC 9110 never matches them with a
// current tag. ok is false when the value is neither "*" nor a list of entity-tags.
func IfMatch(value string) (m service.Match, ok bool) {
	if star(value) {
		return service.MatchAny(), true
	}
	if strings.TrimSpace(value) == "" {
		return service.MatchAny(), true
	}
	var versions []int64
	ok = each(value, func(tag string, weak bool) {
		if weak {
			return
		}
		if v, isOurs := version(tag); isOurs {
			versions = append(versions, v)
		}
	})
	if !ok {
		return service.Match{}, false
	}
	return service.MatchVersions(versions...), true
}

// IfNoneMatch is the precondition that an If-None-Match field value (its lines joined with commas) adds to m
// (If-Match's) on a write: m itself for "" (no header); no version at all for "*", as whatever a write finds exists;
// otherwise m except the versions of the listed tags of [Of]'s form, weak ones included, as RFC 9110 compares
// If-None-Match weakly. ok is false when the value is neither "*" nor a list of entity-tags.
func IfNoneMatch(value string, m service.Match) (_ service.Match, ok bool) {
	if star(value) {
		return service.MatchVersions().FromNoneMatch(), true
	}
	var versions []int64
	ok = each(value, func(tag string, _ bool) {
		if v, isOurs := version(tag); isOurs {
			versions = append(versions, v)
		}
	})
	if !ok {
		return service.Match{}, false
	}
	return m.Except(versions...).FromNoneMatch(), true
}

// NoneMatch reports whether an If-None-Match field value (its lines joined with commas) holds a tag that weakly
// matches current, the tag of the representation that would be sent, or is "*", which any representation
// matches: then a GET answers 304. ok is false when the value is neither "*" nor a list of entity-tags; the
// caller answers as if it were absent.
func NoneMatch(value, current string) (match, ok bool) {
	if star(value) {
		return true, true
	}
	ok = each(value, func(tag string, _ bool) {
		if tag == current {
			match = true
		}
	})
	return match && ok, ok
}

func star(value string) bool { return strings.TrimSpace(value) == "*" }

// version is the version in a tag of Of's form ("12"), and whether it is of that form.
func version(tag string) (int64, bool) {
	digits := tag[1 : len(tag)-1]
	if digits == "" || len(digits) > 19 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}

// each calls f with every entity-tag of a list (RFC 9110's #entity-tag: empty elements and optional whitespace
// allowed), quoted, without its weakness indicator, and reports whether the whole value was such a list.
func each(value string, f func(tag string, weak bool)) bool {
	i, n := 0, len(value)
	for {
		for i < n && (value[i] == ' ' || value[i] == '\t' || value[i] == ',') {
			i++
		}
		if i == n {
			return true
		}
		weak := false
		if strings.HasPrefix(value[i:], "W/") {
			weak = true
			i += 2
		}
		if i == n || value[i] != '"' {
			return false
		}
		j := i + 1
		for j < n && value[j] != '"' {
			if c := value[j]; c < 0x21 || c == 0x7f { // etagc is %x21 / %x23-7E / obs-text
				return false
			}
			j++
		}
		if j == n {
			return false
		}
		f(value[i:j+1], weak)
		i = j + 1
		for i < n && (value[i] == ' ' || value[i] == '\t') {
			i++
		}
		if i < n && value[i] != ',' {
			return false
		}
	}
}
