package accept_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/accept"
)

const (
	problem = "application/problem+json"
	json    = "application/json"
)

// TestPrefers: problem details only where the client weighs them above the envelope's type; every tie, and
// everything unparseable, keeps the envelope.
func TestPrefers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		accept []string
		want   bool
	}{
		{"no Accept", nil, false},
		{"an empty Accept", []string{""}, false},
		{"problem+json alone", []string{"application/problem+json"}, true},
		{"in another case", []string{"Application/Problem+JSON"}, true},
		{"application/json alone", []string{"application/json"}, false},
		{"anything", []string{"*/*"}, false},
		{"application/*", []string{"application/*"}, false},
		{"both at one weight, problem first", []string{"application/problem+json, application/json"}, false},
		{"both at one weight, json first", []string{"application/json, application/problem+json"}, false},
		{"json weighed lower", []string{"application/problem+json, application/json;q=0.9"}, true},
		{"problem weighed lower", []string{"application/problem+json;q=0.5, application/json"}, false},
		{"json refused, anything else taken", []string{"application/json;q=0, */*"}, true},
		{"problem refused", []string{"application/problem+json;q=0, */*"}, false},
		{"problem over a wildcard's weight", []string{"application/*;q=0.2, application/problem+json"}, true},
		{"a wildcard over the problem's weight", []string{"application/problem+json;q=0.1, */*;q=0.5"}, false},
		{"the most specific range wins, not the highest", []string{"application/problem+json;q=0.3, */*;q=1"}, false},
		{"type/* is more specific than */*", []string{"application/problem+json;q=0.3, application/*;q=0.2, */*;q=1"}, true},
		{"over two Accept lines", []string{"application/json;q=0.4", "application/problem+json"}, true},
		{"spaces and parameters", []string{" application/problem+json ; charset=utf-8 ; q=1.0 , application/json ; q=0.8"}, true},
		{"a quoted comma in a parameter", []string{`application/problem+json;v="a,b", application/json;q=0.5`}, true},
		{"q after an extension stays the weight", []string{"application/json;q=0.5;x=1, application/problem+json"}, true},
		{"an invalid q skips its range", []string{"application/json;q=2, application/problem+json;q=0.9"}, true},
		{"q with four decimals is invalid", []string{"application/json;q=0.0001, application/problem+json;q=0.9, */*;q=0.1"}, true},
		{"a malformed range is skipped", []string{"problem, application/problem+json"}, true},
		{"nothing usable is no Accept", []string{"garbage, ;q=1"}, false},
		{"neither acceptable", []string{"text/html"}, false},
		{"a browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{"duplicates take the higher weight", []string{"application/problem+json;q=0.1, application/problem+json;q=0.9, application/json;q=0.5"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, accept.Prefers(tt.accept, problem, json), "Accept: %q", tt.accept)
		})
	}
}

func TestQuality(t *testing.T) {
	t.Parallel()
	tests := []struct {
		accept    string
		mediaType string
		want      float64
	}{
		{"", json, 1},
		{"application/json;q=0.25", json, 0.25},
		{"application/json;Q=0.25", json, 0.25},
		{"application/json;q=1.", json, 1},
		{"application/json;q=1.001, text/html", json, 0}, // an invalid weight skips its range
		{"application/*;q=0.5", problem, 0.5},
		{"*/*;q=0.125", problem, 0.125},
		{"text/*", json, 0},
		{"*/json", json, 1}, // not a media range: skipped, which leaves nothing, which is anything
		{"text/html, */json;q=0.1", json, 0},
	}
	for _, tt := range tests {
		t.Run(tt.accept+" "+tt.mediaType, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tt.want, accept.Quality([]string{tt.accept}, tt.mediaType), 1e-9)
		})
	}
}
