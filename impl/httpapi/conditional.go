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

// ifMatch is the precondition a write's If-Match header sets (nil: none). The contract's pattern has refused a
// value that is not a list of entity-tags before this runs; a caller that skipped validation is refused here.
func ifMatch(h *string) (service.Match, error) {
	if h == nil {
		return service.MatchAny(), nil
	}
	m, ok := etag.IfMatch(*h)
	if !ok {
		return service.Match{}, &service.Error{Code: service.EINVALID, Message: "If-Match is not * or a list of entity-tags.",
			Fields: map[string][]string{ifMatchHeader: {"is not * or a list of entity-tags"}}}
	}
	return m, nil
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
