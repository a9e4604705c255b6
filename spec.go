// Package junction holds the contracts that the rest of the module embeds: the OpenAPI document as written.
package junction

import _ "embed"

// OpenAPIYAML is openapi.yaml byte for byte, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
