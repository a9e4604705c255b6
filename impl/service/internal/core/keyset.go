package core

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/service"
)

// Keyset is a validated [service.KeysetParams]: which way to read, how many, and from where.
type Keyset struct {
	Forward bool
	n       int
	cursor  *service.Cursor
}

// PlanKeyset checks p: Relay's pairs (first with after, last with before), a size within the page limit, and
// cursors that decode.
func PlanKeyset(p service.KeysetParams) (Keyset, error) {
	fe := FieldErrors{}
	if p.First != nil && p.Last != nil {
		fe.Add("first", "cannot be combined with last")
	}
	if p.After != nil && p.Before != nil {
		fe.Add("after", "cannot be combined with before")
	}
	forward := p.Last == nil && p.Before == nil
	if (p.First != nil && p.Before != nil) || (p.Last != nil && p.After != nil) {
		fe.Add("first", "pairs with after, and last with before")
	}
	n := service.DefaultPageSize
	for field, v := range map[string]*int{"first": p.First, "last": p.Last} {
		if v != nil {
			if *v < 1 || *v > service.MaxPageSize {
				fe.Add(field, fmt.Sprintf("must be between 1 and %d", service.MaxPageSize))
			}
			n = *v
		}
	}
	var cursor *service.Cursor
	for field, v := range map[string]*string{"after": p.After, "before": p.Before} {
		if v != nil {
			c, err := service.DecodeCursor(*v)
			if err != nil {
				fe.Add(field, "is not a valid cursor")
			}
			cursor = &c
		}
	}
	if err := fe.Err(); err != nil {
		return Keyset{}, err
	}
	return Keyset{Forward: forward, n: n, cursor: cursor}, nil
}

// Args are the keyset queries' cursor and row limit: one row more than the page, to see past it.
func (k Keyset) Args() (*time.Time, *uuid.UUID, int32) {
	if k.cursor == nil {
		return nil, nil, int32(k.n + 1)
	}
	return &k.cursor.CreatedAt, &k.cursor.ID, int32(k.n + 1)
}

// FinishKeyset trims the extra row fetched to see past the page, restores newest-first order and computes the
// flags.
func FinishKeyset[T any](k Keyset, rows []T, key func(T) service.Cursor) service.Page[T] {
	more := len(rows) > k.n
	if more {
		rows = rows[:k.n]
	}
	p := service.Page[T]{}
	if k.Forward {
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
		p.Cursors[i] = service.EncodeCursor(key(r))
	}
	return p
}
