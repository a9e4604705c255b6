package core

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/ecma262"
)

// TestBlankIsTheSpecsWhitespace: the service's "blank" is exactly ECMA-262's \s, the one openapi.yaml's patterns
// use, for every code point.
func TestBlankIsTheSpecsWhitespace(t *testing.T) {
	t.Parallel()
	re, err := ecma262.Compile(`^\s$`)
	require.NoError(t, err)
	for r := rune(0); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := string(r)
		if re.MatchString(s) != Blank(s) {
			t.Fatalf("U+%04X: ECMA-262 whitespace %v, blank %v", r, re.MatchString(s), Blank(s))
		}
	}
	require.True(t, Blank(" \uFEFF\u3000"))
	require.False(t, Blank("\u0085"))
	require.False(t, Blank(" a "))
}
