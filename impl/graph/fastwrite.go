package graph

import (
	"bytes"
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// rawJSON is an answer fastReads wrote.
type rawJSON []byte

func (r rawJSON) MarshalGQL(w io.Writer) { _, _ = w.Write(r) }

// fastWriter writes an answer as gqlgen's marshalers do, byte for byte, with null propagation: a non-null
// field that is null makes its object null, up to the nearest nullable field.
type fastWriter struct{ buf bytes.Buffer }

// object writes o; false when it is null because a non-null field of it is (nothing is then written).
func (w *fastWriter) object(o *fastObj) bool {
	start := w.buf.Len()
	w.buf.WriteByte('{')
	for i, f := range o.fields {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		graphql.MarshalString(f.Alias).MarshalGQL(&w.buf)
		w.buf.WriteByte(':')
		if !w.field(o, i) {
			w.buf.Truncate(start)
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

// field writes o's field i; false when it is null and non-null.
func (w *fastWriter) field(o *fastObj, i int) bool {
	f := o.fields[i]
	if f.Name == "__typename" {
		graphql.MarshalString(o.typ).MarshalGQL(&w.buf)
		return true
	}
	if fastFields[o.typ][f.Name] != "" {
		k := o.kids[i]
		if k.err != nil {
			w.buf.WriteString("null")
			return false // every object-valued field here is non-null
		}
		if !k.list {
			if len(k.objs) == 0 {
				w.buf.WriteString("null")
				return false
			}
			return w.nested(&k.objs[0])
		}
		w.buf.WriteByte('[')
		for j := range k.objs {
			if j > 0 {
				w.buf.WriteByte(',')
			}
			if !w.nested(&k.objs[j]) {
				return false // a list of non-null items with a null one is null
			}
		}
		w.buf.WriteByte(']')
		return true
	}
	return w.scalar(o, i)
}

func (w *fastWriter) nested(o *fastObj) bool {
	if !w.object(o) {
		w.buf.WriteString("null")
		return false
	}
	return true
}

// scalar writes o's scalar field i with the marshalers of gqlgen's generated code; false when it is null and
// non-null (a zero time, which gqlgen's DateTime writes as null, and reports).
func (w *fastWriter) scalar(o *fastObj, i int) bool {
	v, _ := plain(o, i)
	var m graphql.Marshaler
	nullable := false
	switch v := v.(type) {
	case string:
		if o.fields[i].Name == "id" {
			m = graphql.MarshalID(v)
		} else {
			m = graphql.MarshalString(v)
		}
	case *string:
		nullable, m = true, graphql.Null
		if v != nil {
			m = graphql.MarshalString(*v)
		}
	case bool:
		m = graphql.MarshalBoolean(v)
	case time.Time:
		m = graphql.MarshalTime(v)
	case *time.Time:
		nullable, m = true, graphql.Null
		if v != nil {
			m = graphql.MarshalTime(*v)
		}
	default:
		m = graphql.Null
	}
	m.MarshalGQL(&w.buf)
	return m != graphql.Null || nullable
}
