package ecma262

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCompileMatchesLikeECMA262 holds the answers ECMA-262 (with the u flag, as ajv compiles a schema's pattern)
// gives; RE2 alone gets the \s, "." and \u rows wrong.
func TestCompileMatchesLikeECMA262(t *testing.T) {
	t.Parallel()
	const blankOnly = `^[^\x00]*[^\s\x00][^\x00]*$` // PostContent's pattern: not all blank, no NUL
	tests := []struct {
		pattern, input string
		match          bool
	}{
		{blankOnly, "a", true},
		{blankOnly, " \t\n", false},
		{blankOnly, "\uFEFF", false},             // ZWNBSP is ECMA-262 whitespace
		{blankOnly, "\u00A0\u2003\u3000", false}, // NBSP and Zs
		{blankOnly, "\u2028\u2029", false},       // LS and PS are line terminators
		{blankOnly, "\v", false},
		{blankOnly, "\u0085", true}, // NEL is neither (Go's unicode.IsSpace says it is)
		{blankOnly, "\u180E", true}, // left Zs in Unicode 6.3
		{blankOnly, "a\x00", false},
		{`^\S+$`, "ab", true},
		{`^\S+$`, "a\uFEFF", false},
		{`^[\s]$`, "\uFEFF", true},
		{`^.$`, "\r", false},
		{`^.$`, "\u2028", false},
		{`^.$`, "é", true},
		{`^.$`, "😀", true}, // one code point with the u flag
		{`^\u00e9$`, "é", true},
		{`^\u{1F600}$`, "😀", true},
		{`^[\u0041-\u005A]+$`, "ABC", true},
		{`^\d+$`, "١٢", false}, // \d is ASCII in both
		{`^\w+$`, "é", false},
		{`^a\.b$`, "a.b", true},
		{`^a\.b$`, "axb", false},
		{`^[.]$`, "x", false}, // a dot in a class is a literal
		{`^\0$`, "\x00", true},
		{`^[\x21-\x7E]{1,128}$`, "5f1c0a8e", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.input, func(t *testing.T) {
			t.Parallel()
			re, err := Compile(tt.pattern)
			require.NoError(t, err)
			require.Equal(t, tt.match, re.MatchString(tt.input))
		})
	}
}

func TestCompileRefusesWhatRE2CannotSay(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{`(a)\1`, `\cJ`, `[\S]`, `[]`, `[^]`, `a\`, `[abc`, `\u12`, `\u{}`, `(?=a)`, `\k<x>`} {
		t.Run(pattern, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(pattern)
			require.Error(t, err)
		})
	}
}
