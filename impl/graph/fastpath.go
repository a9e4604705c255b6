package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/junction-dev/junction/impl/ratelimit"
)

// fastReads answers the read root fields users, posts, user and post itself, level by level, instead of
// through gqlgen's generated executor. That executor resolves every list element in a goroutine of its own and
// every field through a field context, a middleware chain and a field set: for users → posts → comments →
// author (about 1,100 objects) that was ~17 ms of CPU per request, most of it allocating, growing goroutine
// stacks and scanning them. Here the root field runs as gqlgen runs it (its arguments, @rateLimit, the field
// middleware and the resolver), then each level of the answer is one batch read for all its parents, as the
// dataloaders would have read it (the same service calls, so the same visibility and limits), and the answer
// is written once, in gqlgen's own encoding.
//
// What it does not know it leaves to gqlgen, untouched: any other root field, a mutation or subscription, a
// field it has no case for (totalCount, Comment.post), @defer, or arguments it cannot read. The guarantees are
// those of the generated executor, which a differential test holds it to (fastpath_test.go): the same bytes,
// errors at the same paths with the same null propagation, the response-size cap counted field by field as
// sizeCap counts it (and no further level read once it is passed), one statement per level.
type fastReads struct {
	r      *Resolver
	limits *ratelimit.Limits
}

var (
	_ graphql.HandlerExtension     = fastReads{}
	_ graphql.RootFieldInterceptor = fastReads{}
)

func (fastReads) ExtensionName() string                   { return "FastReads" }
func (fastReads) Validate(graphql.ExecutableSchema) error { return nil }

// fastFields are, per object type, the fields fastReads answers, each with the object type of its value (""
// for a scalar). __typename is answered everywhere.
var fastFields = map[string]map[string]string{
	"UserConnection": {"edges": "UserEdge", "pageInfo": "PageInfo"},
	"PostConnection": {"edges": "PostEdge", "pageInfo": "PageInfo"},
	"UserEdge":       {"node": "User", "cursor": ""},
	"PostEdge":       {"node": "Post", "cursor": ""},
	"PageInfo":       {"hasNextPage": "", "hasPreviousPage": "", "startCursor": "", "endCursor": ""},
	"User":           {"id": "", "name": "", "email": "", "createdAt": "", "updatedAt": "", "posts": "Post"},
	"Post": {"id": "", "title": "", "content": "", "published": "", "publishedAt": "", "createdAt": "", "updatedAt": "",
		"author": "User", "comments": "Comment"},
	"Comment": {"id": "", "content": "", "createdAt": "", "author": "User"},
}

// fastRoots are the root fields fastReads answers, with the object type of their value.
var fastRoots = map[string]string{"users": "UserConnection", "posts": "PostConnection", "user": "User", "post": "Post"}

func (f fastReads) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	rf := graphql.GetRootFieldContext(ctx)
	if rf == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	typ, ok := fastRoots[rf.Field.Name]
	if !ok || oc.Operation == nil || oc.Operation.Operation != ast.Query || !fastSupported(oc, rf.Field.Selections, typ) {
		return next(ctx)
	}
	action, ok := rootAction(rf.Field)
	if !ok {
		return next(ctx)
	}
	args, resolve, ok := f.root(rf.Field, oc.Variables)
	if !ok {
		return next(ctx) // gqlgen coerces the arguments, and reports what is wrong with them
	}
	fc := &graphql.FieldContext{Object: "Query", Field: rf.Field, Args: args, IsMethod: true, IsResolver: true}
	ctx = graphql.WithFieldContext(ctx, fc)
	x := &fastExec{r: f.r, limits: f.limits, oc: oc, rootCtx: ctx}
	x.budget, _ = ctx.Value(sizeBudgetKey{}).(*sizeBudget)
	return x.run(ctx, fc, typ, action, resolve)
}

// fastSupported reports whether every field selected under sel, on an object of type typ, is one fastReads
// answers, with no @defer.
func fastSupported(oc *graphql.OperationContext, sel ast.SelectionSet, typ string) bool {
	fields, ok := fastFields[typ]
	if !ok {
		return false
	}
	for _, f := range graphql.CollectFields(oc, sel, []string{typ}) {
		if len(f.Deferrables) > 0 {
			return false
		}
		if f.Name == "__typename" {
			continue
		}
		child, ok := fields[f.Name]
		if !ok || (child != "" && !fastSupported(oc, f.Selections, child)) {
			return false
		}
		if f.Name == "posts" || f.Name == "comments" {
			if _, err := optional(f.ArgumentMap(oc.Variables)["limit"], graphql.UnmarshalInt); err != nil {
				return false // gqlgen reports it
			}
		}
	}
	return true
}

// root reads a root field's arguments as the generated code does (defaults applied, the same coercions), and
// returns its resolver; ok is false when an argument does not read, for gqlgen to report.
func (f fastReads) root(field graphql.CollectedField, vars map[string]any) (args map[string]any, resolve func(ctx context.Context) (any, error), ok bool) {
	raw := field.ArgumentMap(vars)
	args = make(map[string]any, len(raw))
	q := queryResolver{f.r}
	ints := func(names ...string) bool {
		for _, n := range names {
			p, err := optional(raw[n], graphql.UnmarshalInt)
			if err != nil {
				return false
			}
			args[n] = p
		}
		return true
	}
	strs := func(names ...string) bool {
		for _, n := range names {
			p, err := optional(raw[n], graphql.UnmarshalString)
			if err != nil {
				return false
			}
			args[n] = p
		}
		return true
	}
	switch field.Name {
	case "users":
		if !ints("page", "limit", "first", "last") || !strs("search", "after", "before") {
			return nil, nil, false
		}
		return args, func(ctx context.Context) (any, error) {
			return q.Users(ctx, args["page"].(*int), args["limit"].(*int), args["search"].(*string), args["first"].(*int),
				args["after"].(*string), args["last"].(*int), args["before"].(*string))
		}, true
	case "posts":
		published, err := optional(raw["published"], graphql.UnmarshalBoolean)
		if err != nil || !ints("page", "limit", "first", "last") || !strs("after", "before") {
			return nil, nil, false
		}
		args["published"] = published
		return args, func(ctx context.Context) (any, error) {
			return q.Posts(ctx, args["page"].(*int), args["limit"].(*int), published, args["first"].(*int),
				args["after"].(*string), args["last"].(*int), args["before"].(*string))
		}, true
	case "user", "post":
		id, err := graphql.UnmarshalID(raw["id"])
		if err != nil || raw["id"] == nil {
			return nil, nil, false
		}
		args["id"] = id
		if field.Name == "user" {
			return args, func(ctx context.Context) (any, error) { return q.User(ctx, id) }, true
		}
		return args, func(ctx context.Context) (any, error) { return q.Post(ctx, id) }, true
	}
	return nil, nil, false
}

// optional reads a nullable argument: nil stays nil.
func optional[T any](v any, read func(any) (T, error)) (*T, error) {
	if v == nil {
		return nil, nil
	}
	t, err := read(v)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// rootAction is the @rateLimit action schema.graphqls gives a root field; ok is false when it has none or names
// an account argument (which the generated code reads, and fastReads does not).
func rootAction(f graphql.CollectedField) (action string, ok bool) {
	if f.Definition == nil {
		return "", false
	}
	d := f.Definition.Directives.ForName("rateLimit")
	if d == nil || d.Arguments.ForName("account") != nil {
		return "", false
	}
	a := d.Arguments.ForName("action")
	if a == nil || a.Value == nil || a.Value.Kind != ast.StringValue {
		return "", false
	}
	return a.Value.Raw, true
}
