package etag_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/etag"
)

func TestIfMatch(t *testing.T) {
	tests := []struct {
		value   string
		ok      bool
		holds   []int64 // versions the precondition holds for
		refuses []int64 // and does not
	}{
		{value: "", ok: true, holds: []int64{1, 7}},
		{value: "*", ok: true, holds: []int64{1, 7}},
		{value: " * ", ok: true, holds: []int64{1}},
		{value: `"3"`, ok: true, holds: []int64{3}, refuses: []int64{1, 4, 30}},
		{value: `"1", "3"`, ok: true, holds: []int64{1, 3}, refuses: []int64{2}},
		{value: `"1",,"3" ,`, ok: true, holds: []int64{1, 3}, refuses: []int64{2}},
		// Strong comparison: a weak tag never matches, even with the current version.
		{value: `W/"3"`, ok: true, refuses: []int64{3}},
		{value: `W/"3", "4"`, ok: true, holds: []int64{4}, refuses: []int64{3}},
		// Tags of other forms match no version: an include=posts tag, a foreign one, leading zeros, overflow.
		{value: `"3-0123456789abcdef0123456789abcdef"`, ok: true, refuses: []int64{3}},
		{value: `"abc"`, ok: true, refuses: []int64{0, 1}},
		{value: `""`, ok: true, refuses: []int64{0}},
		{value: `"03"`, ok: true, refuses: []int64{3}},
		{value: `"99999999999999999999"`, ok: true, refuses: []int64{1}},
		{value: `"-1"`, ok: true, refuses: []int64{-1}},
		// Not a list of entity-tags.
		{value: `3`, ok: false},
		{value: `"3`, ok: false},
		{value: `"3" "4"`, ok: false},
		{value: `*, "3"`, ok: false},
		{value: `w/"3"`, ok: false},
		{value: "\"a b\"", ok: false},
		{value: "\"a\x01\"", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			m, ok := etag.IfMatch(tt.value)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			for _, v := range tt.holds {
				if !m.Holds(v) {
					t.Errorf("does not hold for version %d", v)
				}
			}
			for _, v := range tt.refuses {
				if m.Holds(v) {
					t.Errorf("holds for version %d", v)
				}
			}
		})
	}
}

func TestNoneMatch(t *testing.T) {
	current := etag.Of(3)
	tests := []struct {
		value     string
		match, ok bool
	}{
		{value: `"3"`, match: true, ok: true},
		{value: `W/"3"`, match: true, ok: true}, // weak comparison
		{value: `"1", W/"3"`, match: true, ok: true},
		{value: `*`, match: true, ok: true},
		{value: `"4"`, ok: true},
		{value: `"03"`, ok: true},
		{value: ``, ok: true},
		{value: `"3`, ok: false},
		{value: `"3" junk`, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			match, ok := etag.NoneMatch(tt.value, current)
			if match != tt.match || ok != tt.ok {
				t.Fatalf("NoneMatch(%q) = %v, %v; want %v, %v", tt.value, match, ok, tt.match, tt.ok)
			}
		})
	}
}

// TestIfNoneMatchOnAWrite: on a write, If-None-Match takes versions away from If-Match's precondition: every
// version for "*", the listed ones (weakly compared) otherwise.
func TestIfNoneMatchOnAWrite(t *testing.T) {
	tests := []struct {
		ifMatch, value string
		ok             bool
		holds, refuses []int64
	}{
		{value: "", ok: true, holds: []int64{1, 7}},
		{value: "*", ok: true, refuses: []int64{1, 7}},
		{value: `"3"`, ok: true, holds: []int64{1, 4}, refuses: []int64{3}},
		{value: `W/"3", "5"`, ok: true, holds: []int64{4}, refuses: []int64{3, 5}},
		{value: `"3-0123456789abcdef0123456789abcdef", "abc"`, ok: true, holds: []int64{3}},
		{ifMatch: `"3", "4"`, value: `"3"`, ok: true, holds: []int64{4}, refuses: []int64{3, 5}},
		{ifMatch: `"3"`, value: "*", ok: true, refuses: []int64{3}},
		{value: `3`, ok: false},
		{value: `*, "3"`, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.ifMatch+"|"+tt.value, func(t *testing.T) {
			m, ok := etag.IfMatch(tt.ifMatch)
			if !ok {
				t.Fatalf("If-Match %q refused", tt.ifMatch)
			}
			m, ok = etag.IfNoneMatch(tt.value, m)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			for _, v := range tt.holds {
				if !m.Holds(v) {
					t.Errorf("does not hold for version %d", v)
				}
			}
			for _, v := range tt.refuses {
				if m.Holds(v) {
					t.Errorf("holds for version %d", v)
				}
			}
		})
	}
}

func TestWithMembersChangesWithEveryMember(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	base := etag.WithMembers(2, []etag.Member{{a, 1}, {b, 1}})
	others := map[string]string{
		"the resource changed": etag.WithMembers(3, []etag.Member{{a, 1}, {b, 1}}),
		"a member changed":     etag.WithMembers(2, []etag.Member{{a, 1}, {b, 2}}),
		"a member went":        etag.WithMembers(2, []etag.Member{{a, 1}}),
		"a member came":        etag.WithMembers(2, []etag.Member{{a, 1}, {b, 1}, {uuid.New(), 1}}),
		"the order changed":    etag.WithMembers(2, []etag.Member{{b, 1}, {a, 1}}),
		"none":                 etag.WithMembers(2, nil),
		"the plain tag":        etag.Of(2),
	}
	for name, tag := range others {
		if tag == base {
			t.Errorf("%s: the tag stayed %s", name, tag)
		}
	}
	if again := etag.WithMembers(2, []etag.Member{{a, 1}, {b, 1}}); again != base {
		t.Errorf("the same representation got %s, then %s", base, again)
	}
	if m, _ := etag.IfMatch(base); m.Holds(2) {
		t.Errorf("If-Match %s holds for the resource's version", base)
	}
}
