package httpapi

import (
	"net/http"
	"strings"

	"github.com/junction-dev/junction/impl/etag"
	"github.com/junction-dev/junction/impl/service"
)

// The conditional request headers of openapi.yaml (components/parameters IfMatch and IfNoneMatch).
const (
	ifMatchHeader     = "If-Match"
	ifNoneMatchHeader = "If-None-Match"
)

// joinListHeaders folds the lines of each conditional header into one, as RFC 9110 (section 5.3) makes them
// equivalent to: the generated server takes a header parameter from a single line, and refuses several.
func joinListHeaders(h http.Header) {
	for _, k := range [...]string{ifMatchHeader, ifNoneMatchHeader} {
		if v := h[k]; len(v) > 1 {
			h[k] = []string{strings.Join(v, ", ")}
		}
	}
}

// preconditions is what a write's If-Match and If-None-Match headers (nil: absent) allow: the versions it may
// change. The contract's pattern has refused a value that is not a list of entity-tags before this runs; a caller
// that skipped validation is refused here.
func preconditions(ifMatchValue, ifNoneMatchValue *string) (service.Match, error) {
	m := service.MatchAny()
	if ifMatchValue != nil {
		var ok bool
		if m, ok = etag.IfMatch(*ifMatchValue); !ok {
			return service.Match{}, notATagList(ifMatchHeader)
		}
	}
	if ifNoneMatchValue != nil {
		var ok bool
		if m, ok = etag.IfNoneMatch(*ifNoneMatchValue, m); !ok {
			return service.Match{}, notATagList(ifNoneMatchHeader)
		}
	}
	return m, nil
}

func notATagList(header string) error {
	return &service.Error{Code: service.EINVALID, Message: header + " is not * or a list of entity-tags.",
		Fields: map[string][]string{header: {"is not * or a list of entity-tags"}}}
}

// notModified reports whether a read's If-None-Match header (nil: none) lists current, the tag of what it would
// answer: then the answer is 304 and no body.
func notModified(h *string, current string) bool {
	if h == nil {
		return false
	}
	match, _ := etag.NoneMatch(*h, current)
	return match
}
