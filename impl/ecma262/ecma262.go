// Package ecma262 compiles the regular expressions of openapi.yaml with the meaning JSON Schema gives them:
// ECMA-262's, with the "u" flag that JSON Schema validators such as ajv (and so Prism and most JavaScript
// clients) use. Go's RE2 syntax agrees with ECMA-262 on most of what a schema's pattern says, but not on all: \s
// is ASCII whitespace in RE2 and Unicode whitespace (U+FEFF included, U+0085 not) in ECMA-262, "." stops at
// fewer line terminators, and \uXXXX is not RE2 syntax at all. [Translate] rewrites those constructs into RE2
// that matches the same strings, and refuses the ones RE2 cannot express (back references, \cX, \S inside a
// class), so that a pattern never silently means something else on the server than in the spec.
package ecma262

import (
	"fmt"
	"regexp"
	"strings"
)

// whitespace is ECMA-262's WhiteSpace and LineTerminator productions, what \s matches: TAB, VT, FF, SP, NBSP,
// ZWNBSP (U+FEFF), the Zs category, LF, CR, LS and PS. It is written for the inside of an RE2 class.
const whitespace = `\t\n\v\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}`

// lineTerminators are what ECMA-262's "." does not match (without the s flag).
const lineTerminators = `\n\r\x{2028}\x{2029}`

// Compile translates pattern and compiles it.
func Compile(pattern string) (*regexp.Regexp, error) {
	re2, err := Translate(pattern)
	if err != nil {
		return nil, err
	}
	return regexp.Compile(re2)
}

// Translate returns the RE2 expression that matches what the ECMA-262 pattern matches.
func Translate(pattern string) (string, error) {
	var b strings.Builder
	inClass := false
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\':
			if i+1 >= len(rs) {
				return "", fmt.Errorf("pattern %q ends with a lone backslash", pattern)
			}
			i++
			e := rs[i]
			switch {
			case e == 's' && inClass:
				b.WriteString(whitespace)
			case e == 's':
				b.WriteString("[" + whitespace + "]")
			case e == 'S' && !inClass:
				b.WriteString("[^" + whitespace + "]")
			case e == 'S':
				return "", fmt.Errorf("pattern %q: \\S inside a character class is not supported", pattern)
			case e == 'u':
				n, code, err := unicodeEscape(rs[i+1:])
				if err != nil {
					return "", fmt.Errorf("pattern %q: %w", pattern, err)
				}
				i += n
				fmt.Fprintf(&b, `\x{%s}`, code)
			case e == '0' && (i+1 >= len(rs) || rs[i+1] < '0' || rs[i+1] > '9'):
				b.WriteString(`\x00`)
			case e >= '0' && e <= '9':
				return "", fmt.Errorf("pattern %q: back references are not supported", pattern)
			case e == 'c':
				return "", fmt.Errorf("pattern %q: \\c control escapes are not supported", pattern)
			case e == 'k':
				return "", fmt.Errorf("pattern %q: named back references are not supported", pattern)
			default:
				// \d, \w, \b and their negations are ASCII in both; \t, \n, \v, \f, \r, \xHH, \p{...} and escaped
				// punctuation are written alike.
				b.WriteRune('\\')
				b.WriteRune(e)
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteRune(c)
			if i+1 < len(rs) && rs[i+1] == '^' {
				i++
				b.WriteRune('^')
			}
			if i+1 < len(rs) && rs[i+1] == ']' {
				// ECMA-262's [] matches nothing and [^] anything; in RE2 a leading ] is a literal.
				return "", fmt.Errorf("pattern %q: empty character classes are not supported", pattern)
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteRune(c)
		case c == '.' && !inClass:
			b.WriteString("[^" + lineTerminators + "]")
		default:
			b.WriteRune(c)
		}
	}
	if inClass {
		return "", fmt.Errorf("pattern %q: unterminated character class", pattern)
	}
	return b.String(), nil
}

// unicodeEscape reads what follows \u: four hex digits, or (with the u flag) {hex digits}. It returns how many
// runes it read and the code point in hex.
func unicodeEscape(rs []rune) (int, string, error) {
	if len(rs) > 0 && rs[0] == '{' {
		for j := 1; j < len(rs); j++ {
			if rs[j] == '}' {
				if j == 1 || !allHex(rs[1:j]) {
					break
				}
				return j + 1, string(rs[1:j]), nil
			}
		}
		return 0, "", fmt.Errorf(`malformed \u{...} escape`)
	}
	if len(rs) < 4 || !allHex(rs[:4]) {
		return 0, "", fmt.Errorf(`\u must be followed by four hex digits`)
	}
	return 4, string(rs[:4]), nil
}

func allHex(rs []rune) bool {
	for _, r := range rs {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}
