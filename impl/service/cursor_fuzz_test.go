package service

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// FuzzDecodeCursor: any string decodes or errors, never panics, and what decodes re-encodes to the same cursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(Cursor{CreatedAt: time.Unix(1_700_000_000, 123_000).UTC(), ID: uuid.MustParse("0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11")}))
	f.Add("")
	f.Add("YzE6MTIzOm5vdC1hLXV1aWQ")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			return
		}
		again, err := DecodeCursor(EncodeCursor(c))
		if err != nil || !again.CreatedAt.Equal(c.CreatedAt) || again.ID != c.ID {
			t.Fatalf("%q decoded to %+v, which does not round-trip: %+v, %v", s, c, again, err)
		}
	})
}
