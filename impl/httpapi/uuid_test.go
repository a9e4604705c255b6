package httpapi

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestValidateUUIDIsJSONSchemasFormat: the hand-written check accepts exactly JSON Schema's uuid format, RFC 4122's
// string representation, whatever its version and variant digits say (the ABNF's hexOctets; ajv-formats, and so
// Prism, accept the same, and an optional "urn:uuid:" prefix too).
func TestValidateUUIDIsJSONSchemasFormat(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	inputs := []string{
		"", "not-a-uuid", uuid.Nil.String(), uuid.Max.String(), strings.ToUpper(uuid.Max.String()),
		"0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11", "0B0E6F55-8D5F-4A7C-9A4E-6A0C9E8E2A11",
		"0b0e6f55-8d5f-0a7c-9a4e-6a0c9e8e2a11", "0b0e6f55-8d5f-9a7c-9a4e-6a0c9e8e2a11", // versions 0 and 9
		"0b0e6f55-8d5f-4a7c-7a4e-6a0c9e8e2a11", "0b0e6f55-8d5f-4a7c-ca4e-6a0c9e8e2a11", // other variants
		"0b0e6f558d5f-4a7c-9a4e-6a0c9e8e2a11-", "0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a1g", "0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a1",
		"{0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11}", "0b0e6f55_8d5f_4a7c_9a4e_6a0c9e8e2a11", "😀😀😀😀😀😀😀😀😀",
	}
	for range 200 {
		inputs = append(inputs, uuid.NewString())
		v7, err := uuid.NewV7()
		require.NoError(t, err)
		inputs = append(inputs, v7.String())
	}
	for _, s := range inputs {
		require.Equal(t, re.MatchString(s), validateUUID(s) == nil, "%q", s)
	}
}
