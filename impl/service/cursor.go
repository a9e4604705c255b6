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

// keysetPlan is a validated KeysetParams.
type keysetPlan struct {
	forward bool
	n       int
	cursor  *Cursor
}

func (p KeysetParams) plan() (keysetPlan, error) {
	fe := fieldErrors{}
	if p.First != nil && p.Last != nil {
		fe.add("first", "cannot be combined with last")
	}
	if p.After != nil && p.Before != nil {
		fe.add("after", "cannot be combined with before")
	}
	forward := p.Last == nil && p.Before == nil
	if (p.First != nil && p.Before != nil) || (p.Last != nil && p.After != nil) {
		fe.add("first", "pairs with after, and last with before")
	}
	n := DefaultPageSize
	for field, v := range map[string]*int{"first": p.First, "last": p.Last} {
		if v != nil {
			if *v < 1 || *v > MaxPageSize {
				fe.add(field, fmt.Sprintf("must be between 1 and %d", MaxPageSize))
			}
			n = *v
		}
	}
	var cursor *Cursor
	for field, v := range map[string]*string{"after": p.After, "before": p.Before} {
		if v != nil {
			c, err := DecodeCursor(*v)
			if err != nil {
				fe.add(field, "is not a valid cursor")
			}
			cursor = &c
		}
	}
	if err := fe.err(); err != nil {
		return keysetPlan{}, err
	}
	return keysetPlan{forward: forward, n: n, cursor: cursor}, nil
}

func (k keysetPlan) args() (*time.Time, *uuid.UUID, int32) {
	if k.cursor == nil {
		return nil, nil, int32(k.n + 1)
	}
	return &k.cursor.CreatedAt, &k.cursor.ID, int32(k.n + 1)
}

// Page is a keyset page: the items, their cursors, and whether there is more either way.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNext     bool
	HasPrevious bool
}

// finish trims the extra row fetched to see past the page, restores newest-first order and computes the flags.
func finish[T any](k keysetPlan, rows []T, key func(T) Cursor) Page[T] {
	more := len(rows) > k.n
	if more {
		rows = rows[:k.n]
	}
	p := Page[T]{}
	if k.forward {
		p.HasNext, p.HasPrevious = more, k.cursor != nil
	} else {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		p.HasPrevious, p.HasNext = more, k.cursor != nil
	}
	p.Items = rows
	p.Cursors = make([]string, len(rows))
	for i, r := range rows {
		p.Cursors[i] = EncodeCursor(key(r))
	}
	return p
}
