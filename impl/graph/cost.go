package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/service"
)

// An operation's cost is priced from its text and its arguments before it runs (the rule is written at the top
// of schema.graphqls): gqlgen's walker adds up every field, alias and fragment, and the functions below make
// each list field multiply the cost of its selection by the items it may return. Counting each field once, as
// gqlgen does by default, let 20 aliases of users(limit: 100) { ... posts { comments { ... } } } through at a
// cost of a few hundred while they answered 314 MB.

// costs are the per-field prices of the list fields, in one place. Every other field costs 1 plus its selection.
func costs() gql.ComplexityRoot {
	var c gql.ComplexityRoot
	c.Query.Users = func(child int, _, limit *int, _ *string, first *int, _ *string, last *int, _ *string) int {
		return listCost(child, pageItems(limit, first, last))
	}
	c.Query.Posts = func(child int, _, limit *int, _ *bool, first *int, _ *string, last *int, _ *string) int {
		return listCost(child, pageItems(limit, first, last))
	}
	c.User.Posts = func(child int, limit *int) int {
		return listCost(child, items(limit, service.DefaultPerParent, service.PerParentLimit))
	}
	c.Post.Comments = func(child int, limit *int) int {
		return listCost(child, items(limit, service.DefaultPerParent, service.PerParentLimit))
	}
	return c
}

// pageItems is how many items a page of users or posts may hold: first or last when given (the larger, should
// both be, which the service refuses anyway), else limit.
func pageItems(limit, first, last *int) int {
	if first != nil || last != nil {
		return max(items(first, 0, service.MaxPageSize), items(last, 0, service.MaxPageSize))
	}
	return items(limit, service.DefaultPageSize, service.MaxPageSize)
}

// items reads a count argument as the service will serve it: absent or below 1 is priced at the default (the
// service either fills it or refuses it), above most at most.
func items(n *int, def, most int) int {
	if n == nil || *n < 1 {
		return def
	}
	return min(*n, most)
}

// listCost is 1 + n × child, saturating instead of overflowing: nested multipliers reach 100^depth, and an
// overflow must never wrap a huge cost around to a small one.
func listCost(child, n int) int {
	const maxInt = int(^uint(0) >> 1)
	if n > 0 && child > (maxInt-1)/n {
		return maxInt
	}
	return 1 + n*child
}

// costLimit refuses an operation whose cost is over limit, before any resolver (so any SQL) runs.
type costLimit struct {
	limit int
	es    graphql.ExecutableSchema
}

var (
	_ graphql.HandlerExtension        = (*costLimit)(nil)
	_ graphql.OperationContextMutator = (*costLimit)(nil)
)

func (*costLimit) ExtensionName() string { return "CostLimit" }

func (c *costLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *costLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &costWalker{es: c.es, schema: c.es.Schema(), vars: oc.Variables, fragments: map[string]int{}}
	cost := w.selections(ctx, oc.Operation.SelectionSet)
	if cost <= c.limit {
		return nil
	}
	err := gqlerror.Errorf("The query costs %d; the limit is %d. Ask for fewer items (limit, first, last) or fewer fields.",
		cost, c.limit)
	err.Extensions = map[string]any{"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": c.limit}
	return err
}

// costWalker prices an operation as gqlgen's complexity.Calculate does, with two differences: introspection
// (__schema and all under it) is priced like any other field instead of costing nothing, and each fragment is
// priced once, however often it is spread, instead of being walked again at each spread (2^k walks for k
// fragments that each spread the next twice). A fragment's price depends only on its selection and the
// operation's variables, so one price per fragment is exact.
type costWalker struct {
	es        graphql.ExecutableSchema
	schema    *ast.Schema
	vars      map[string]any
	fragments map[string]int
}

func (w *costWalker) selections(ctx context.Context, set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total = satAdd(total, w.field(ctx, s))
		case *ast.InlineFragment:
			total = satAdd(total, w.selections(ctx, s.SelectionSet))
		case *ast.FragmentSpread:
			cost, ok := w.fragments[s.Name]
			if !ok {
				if s.Definition != nil {
					w.fragments[s.Name] = 0 // a cycle, which validation refused, prices nothing
					cost = w.selections(ctx, s.Definition.SelectionSet)
				}
				w.fragments[s.Name] = cost
			}
			total = satAdd(total, cost)
		}
	}
	return total
}

func (w *costWalker) field(ctx context.Context, f *ast.Field) int {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return 1
	}
	def := w.schema.Types[f.Definition.Type.Name()]
	child := 0
	if def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		child = w.selections(ctx, f.SelectionSet)
	}
	args := f.ArgumentMap(w.vars)
	if f.ObjectDefinition.Kind != ast.Interface {
		return w.price(ctx, f.ObjectDefinition.Name, f.Name, child, args)
	}
	// An interface's field is priced at its dearest implementation, as gqlgen does.
	most := 0
	for _, t := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
		most = max(most, w.price(ctx, t.Name, f.Name, child, args))
	}
	return most
}

// price is a field's own price (costs()), else 1 plus its selection's.
func (w *costWalker) price(ctx context.Context, typeName, field string, child int, args map[string]any) int {
	if cost, ok := w.es.Complexity(ctx, typeName, field, child, args); ok && cost >= 1 {
		return cost
	}
	return satAdd(1, child)
}
