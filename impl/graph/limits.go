package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// maxIntrospectionDepth bounds the nesting under __schema and __type. Introspection walks the schema, which is
// finite, through ofType chains deeper than any limit fit for data: GraphiQL's own query is 15 levels deep
// (__schema types fields args type and TypeRef's nine ofType), so it has a limit of its own.
const maxIntrospectionDepth = 20

// depthLimit refuses operations nested deeper than max: complexity bounds the work, depth bounds the recursion
// that users { posts { author { posts ... } } } allows. Introspection fields count against
// maxIntrospectionDepth instead.
type depthLimit struct{ max int }

var (
	_ graphql.HandlerExtension        = depthLimit{}
	_ graphql.OperationContextMutator = depthLimit{}
)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := newDepthWalker(oc.Doc.Fragments)
	data, intro := w.root(oc.Operation.SelectionSet)
	if data > d.max {
		err := gqlerror.Errorf("The query is %d levels deep; the limit is %d.", data, d.max)
		err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
		return err
	}
	if intro > maxIntrospectionDepth {
		err := gqlerror.Errorf("The introspection query is %d levels deep; the limit is %d.", intro, maxIntrospectionDepth)
		err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
		return err
	}
	return nil
}

// depthWalker measures field nesting through fragments, each fragment measured once: without the memo, a
// fragment spread twice in each of k nested fragments is walked 2^k times.
type depthWalker struct {
	fragments ast.FragmentDefinitionList
	depth     map[string]int
	rootDepth map[string][2]int
	active    map[string]bool
}

func newDepthWalker(fragments ast.FragmentDefinitionList) *depthWalker {
	return &depthWalker{fragments: fragments, depth: map[string]int{}, rootDepth: map[string][2]int{}, active: map[string]bool{}}
}

// root returns the depth of an operation's data fields and, apart, of its __schema and __type fields.
func (w *depthWalker) root(set ast.SelectionSet) (data, intro int) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			d := 1 + w.nested(s.SelectionSet)
			if s.Name == "__schema" || s.Name == "__type" {
				intro = max(intro, d)
			} else {
				data = max(data, d)
			}
		case *ast.InlineFragment:
			dd, di := w.root(s.SelectionSet)
			data, intro = max(data, dd), max(intro, di)
		case *ast.FragmentSpread:
			got, ok := w.rootDepth[s.Name]
			if !ok {
				if f := w.fragments.ForName(s.Name); f != nil && !w.active[s.Name] {
					w.active[s.Name] = true
					got[0], got[1] = w.root(f.SelectionSet)
					delete(w.active, s.Name)
				}
				w.rootDepth[s.Name] = got
			}
			data, intro = max(data, got[0]), max(intro, got[1])
		}
	}
	return data, intro
}

// nested is the depth of a selection set below the root: a field is one level more than its selection.
func (w *depthWalker) nested(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			deepest = max(deepest, 1+w.nested(s.SelectionSet))
		case *ast.InlineFragment:
			deepest = max(deepest, w.nested(s.SelectionSet))
		case *ast.FragmentSpread:
			d, ok := w.depth[s.Name]
			if !ok {
				// A cycle counts nothing here: validation has refused it already.
				if f := w.fragments.ForName(s.Name); f != nil && !w.active[s.Name] {
					w.active[s.Name] = true
					d = w.nested(f.SelectionSet)
					delete(w.active, s.Name)
				}
				w.depth[s.Name] = d
			}
			deepest = max(deepest, d)
		}
	}
	return deepest
}
