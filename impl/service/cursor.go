package service

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Cursor is a position in a list ordered by (created_at, id): opaque to clients, stable while rows come and go.
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

const cursorVersion = "c1"

// EncodeCursor returns c as an opaque string.
func EncodeCursor(c Cursor) string {
	raw := cursorVersion + ":" + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID.String()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a string from EncodeCursor; anything else is an error, never a panic.
func DecodeCursor(s string) (Cursor, error) {
	if len(s) > 128 {
		return Cursor{}, fmt.Errorf("cursor too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor not base64url: %w", err)
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return Cursor{}, fmt.Errorf("cursor of an unknown form")
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor time: %w", err)
	}
	id, err := uuid.Parse(parts[2])
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor id: %w", err)
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}, nil
}

// KeysetParams page a list with Relay's arguments: First (with After) forwards, Last (with Before) backwards.
type KeysetParams struct {
	First, Last   *int
	After, Before *string
}

// Page is a keyset page: the items, their cursors, and whether there is more either way.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNext     bool
	HasPrevious bool
}
