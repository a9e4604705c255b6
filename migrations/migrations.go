// Package migrations embeds the goose SQL migrations, the source of truth for the schema (sqlc reads them too).
package migrations

import "embed"

// FS holds every migration file, in goose's naming order.
//
//go:embed *.sql
var FS embed.FS
