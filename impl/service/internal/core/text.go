package core

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/junction-dev/junction/impl/service"
)

// Blank reports whether s is only whitespace as openapi.yaml's patterns define it (ECMA-262's \s: U+FEFF is
// whitespace, U+0085 is not), so that the services and every validator of the spec agree on what "not all blank"
// means. strings.TrimSpace uses Unicode's White_Space instead, which differs in exactly those two characters.
func Blank(s string) bool {
	return strings.TrimFunc(s, isECMAWhitespace) == ""
}

// isECMAWhitespace is ECMA-262's WhiteSpace and LineTerminator: TAB, VT, FF, SP, NBSP, ZWNBSP, the Zs category
// (as of Unicode 6.3, without U+180E), LF, CR, LS and PS.
func isECMAWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// ValidText reports whether s is valid UTF-8 that PostgreSQL can store (text cannot hold NUL).
func ValidText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// EmailPattern is openapi.yaml's Email pattern (ASCII dot-atom @ a host name of two labels or more), so that an
// address GraphQL accepts is one REST accepts and every later response that carries it is valid. RE2 and ECMA-262
// read it alike: it has no \s, ".", or \u.
var EmailPattern = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")

// CheckPassword checks a new password, at sign-up, on a change and on a reset alike.
func CheckPassword(fe FieldErrors, pw string) {
	if n := utf8.RuneCountInString(pw); n < service.PasswordMinLen || n > service.PasswordMaxLen {
		fe.Add("password", fmt.Sprintf("must be %d to %d characters", service.PasswordMinLen, service.PasswordMaxLen))
	}
}

// CheckBody checks free text (post or comment content): 1..max characters, not blank, storable.
func CheckBody(fe FieldErrors, field, text string, max int) {
	n := utf8.RuneCountInString(text)
	switch {
	case n < 1 || n > max:
		fe.Add(field, fmt.Sprintf("must be 1 to %d characters", max))
	case Blank(text):
		fe.Add(field, "must not be blank")
	case !ValidText(text):
		fe.Add(field, "must be valid text without NUL characters")
	}
}

// CheckSearch checks a search term of at most max characters: every list's one rule, with one message.
func CheckSearch(fe FieldErrors, term string, max int) {
	if utf8.RuneCountInString(term) > max || !ValidText(term) {
		fe.Add("search", fmt.Sprintf("must be at most %d characters of valid text", max))
	}
}

// ContainsPattern turns a search term into a LIKE pattern matching it anywhere, with LIKE's wildcards in the
// term escaped so that "%" and "_" match themselves. An empty term means no filter.
func ContainsPattern(term string) *string {
	if term == "" {
		return nil
	}
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term)
	pattern := "%" + escaped + "%"
	return &pattern
}

// CheckLine checks one line of text (a name, a title): 1..max characters, not blank, no control characters.
func CheckLine(fe FieldErrors, field, s string, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n < 1 || n > max:
		fe.Add(field, fmt.Sprintf("must be 1 to %d characters", max))
	case Blank(s):
		fe.Add(field, "must not be blank")
	case !ValidText(s) || strings.ContainsFunc(s, unicode.IsControl):
		fe.Add(field, "must not contain control characters")
	}
}
