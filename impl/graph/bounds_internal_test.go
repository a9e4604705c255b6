package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/junction-dev/junction/gen/gql"
)

// bomb is k fragments each spreading the next twice: 2^k fields once expanded, under 1 KB of text.
func bomb(k int) string {
	var b strings.Builder
	b.WriteString("{...F0} ")
	for i := range k - 1 {
		fmt.Fprintf(&b, "fragment F%d on Query{...F%d ...F%d} ", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query{__typename posts{totalCount}}", k-1)
	return b.String()
}

// TestWalkersMemoizeFragments: the depth and cost walkers price a fragment once however often it is spread, so
// even a document that got past the bounds could not make them exponential; the cost saturates.
func TestWalkersMemoizeFragments(t *testing.T) {
	t.Parallel()
	es := gql.NewExecutableSchema(gql.Config{Complexity: costs()})
	for _, k := range []int{10, 40, 70} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			t.Parallel()
			doc := mustParse(t, bomb(k))
			require.Empty(t, validator.ValidateWithRules(es.Schema(), doc, validationRules()))
			start := time.Now()
			data, intro := newDepthWalker(doc.Fragments).root(doc.Operations[0].SelectionSet)
			require.Equal(t, 2, data)
			require.Zero(t, intro)
			w := &costWalker{es: es, schema: es.Schema(), fragments: map[string]int{}}
			cost := w.selections(context.Background(), doc.Operations[0].SelectionSet)
			if k < 60 {
				require.Equal(t, 22<<(k-1), cost, "each copy of the last fragment costs 1 + (1 + 20 × 1)")
			} else {
				require.Equal(t, int(^uint(0)>>1), cost, "saturated")
			}
			require.Less(t, time.Since(start), 100*time.Millisecond)
		})
	}
}

func mustParse(t *testing.T, q string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	require.NoError(t, err)
	return doc
}

// TestCheckDocument: the bounds themselves, on documents that validation has not seen (so may be cyclic or
// refer to fragments that do not exist).
func TestCheckDocument(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, query string
		refused     bool
	}{
		{"small", `{ posts { totalCount } }`, false},
		{"a name 16 times", "{" + strings.Repeat("__typename ", maxSameName) + "}", false},
		{"a name 17 times", "{" + strings.Repeat("__typename ", maxSameName+1) + "}", true},
		{"a name 17 times through inline fragments", "{" + strings.Repeat("... on Query { __typename } ", maxSameName+1) + "}", true},
		{"a name 17 times in a fragment", "{...F} fragment F on Query {" + strings.Repeat("a: __typename ", maxSameName+1) + "}", true},
		{"nested", "{ posts { edges { node { " + strings.Repeat("id ", maxSameName+1) + "} } } }", true},
		{"three introspection roots", `{ a: __schema { queryType { name } } b: __type(name: "User") { name } c: __schema { queryType { name } } }`, false},
		{"four through a fragment", `{ ...I ...I a: __schema { queryType { name } } b: __schema { queryType { name } } } fragment I on Query { __type(name: "User") { name } }`, true},
		{"fragment bomb", bomb(40), true},
		{"cyclic fragments", `{...A} fragment A on Query {...B} fragment B on Query {...A __typename}`, false},
		{"unknown fragment", `{...Nowhere}`, false},
		{"unused fragment bomb", `{__typename} ` + strings.TrimPrefix(bomb(40), "{...F0} "), true},
		{"a name 17 times through spreads", "{" + strings.Repeat("...A ", maxSameName+1) + "} fragment A on Query { id: __typename }", true},
		{"conflicting fragments, each small", "{" + strings.Repeat("...A ...B ", 9) + "} fragment A on Query { a: __typename } fragment B on Query { a: posts { totalCount } }", true},
		{"a name in 16 fragments", "{" + strings.Repeat("...A ...B ", 8) + "} fragment A on Query { a: __typename } fragment B on Query { a: __typename }", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkDocument(mustParse(t, tc.query))
			if !tc.refused {
				require.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, "QUERY_TOO_LARGE", err.Extensions["code"])
		})
	}
}

// TestCapErrors: at most maxErrors, the last counting the rest.
func TestCapErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, kept, omitted int }{
		{0, 0, 0}, {1, 1, 0}, {maxErrors, maxErrors, 0}, {maxErrors + 1, maxErrors, 2}, {10_000, maxErrors, 10_000 - maxErrors + 1},
	} {
		list := make(gqlerror.List, tc.n)
		for i := range list {
			list[i] = gqlerror.Errorf("error %d", i)
		}
		got := capErrors(list)
		require.Len(t, got, tc.kept)
		if tc.omitted > 0 {
			require.Equal(t, tc.omitted, got[len(got)-1].Extensions["omitted"])
			require.Equal(t, fmt.Sprintf("error %d", maxErrors-2), got[len(got)-2].Message)
		}
	}
}
