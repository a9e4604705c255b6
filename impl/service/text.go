package service

import (
	"regexp"
	"strings"
)

// blank reports whether s is only whitespace as openapi.yaml's patterns define it (ECMA-262's \s: U+FEFF is
// whitespace, U+0085 is not), so that the service and every validator of the spec agree on what "not all blank"
// means. strings.TrimSpace uses Unicode's White_Space instead, which differs in exactly those two characters.
func blank(s string) bool {
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

// emailPattern is openapi.yaml's Email pattern (ASCII dot-atom @ a host name of two labels or more), so that an
// address GraphQL accepts is one REST accepts and every later response that carries it is valid. RE2 and ECMA-262
// read it alike: it has no \s, ".", or \u.
var emailPattern = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
