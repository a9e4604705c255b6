package service

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	junction "github.com/junction-dev/junction"
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
		if re.MatchString(s) != blank(s) {
			t.Fatalf("U+%04X: ECMA-262 whitespace %v, blank %v", r, re.MatchString(s), blank(s))
		}
	}
	require.True(t, blank(" \uFEFF\u3000"))
	require.False(t, blank("\u0085"))
	require.False(t, blank(" a "))
}

// TestEmailIsTheSpecsEmail: the service accepts exactly the addresses openapi.yaml's Email schema does (its
// pattern, read as ECMA-262, and its maxLength), so GraphQL and REST agree.
func TestEmailIsTheSpecsEmail(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(junction.OpenAPIYAML)
	require.NoError(t, err)
	schema := doc.Components.Schemas["Email"].Value
	re, err := ecma262.Compile(schema.Pattern)
	require.NoError(t, err)
	for _, email := range []string{
		"ada@example.com", "a.b+c@mail.example.co.uk", "x@a-b.io", "!#$%&'*+/=?^_`{|}~-@example.com",
		"zoë@example.com", "ada@exämple.com", "ada@localhost", `"ada lovelace"@example.com`, "ada@[127.0.0.1]",
		"a..b@example.com", ".a@example.com", "a.@example.com", "ada@-example.com", "ada@example-.com", "ada@example.com.",
		"Ada <ada@example.com>", "ada@example", "@example.com", "ada@", "", "ada@@example.com", "ada @example.com",
		strings.Repeat("a", 242) + "@example.com", strings.Repeat("a", 243) + "@example.com",
	} {
		fe := fieldErrors{}
		checkEmail(fe, email)
		want := re.MatchString(email) && len(email) <= int(*schema.MaxLength)
		require.Equal(t, want, len(fe) == 0, "%q: %v", email, fe)
	}
}
