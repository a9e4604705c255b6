package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// fastExec is one root field's answer being built.
type fastExec struct {
	r       *Resolver
	limits  *ratelimit.Limits
	oc      *graphql.OperationContext
	rootCtx context.Context // the root field's context, for the errors of the fields under it
	budget  *sizeBudget
	// The reads the next level needs, gathered while the current level is expanded.
	posts    []fastWant[childrenKey]
	comments []fastWant[childrenKey]
	users    []fastWant[uuid.UUID]
	// What earlier levels read, kept for the later ones as the dataloaders keep it for the whole request.
	gotPosts    map[childrenKey][]service.Post
	gotComments map[childrenKey][]service.Comment
	gotUsers    map[uuid.UUID]*gql.User
	collected   map[selKey][]graphql.CollectedField
	perParent   map[*ast.Field]fastLimit
}

// fastLimit is a User.posts or Post.comments field's limit, read once per field of the operation.
type fastLimit struct {
	n   int
	err error
}

// fastObj is one object of the answer: its value, the fields selected on it, and what each resolved to.
type fastObj struct {
	typ    string
	v      any
	fields []graphql.CollectedField
	kids   []fastKid
	// Where it is, for an error's path: its parent, the parent's field and the index in that field's list (-1
	// outside a list).
	parent *fastObj
	field  int
	index  int
}

// fastKid is what an object-valued field resolved to: a list's items or the one object, or an error (then the
// field is null).
type fastKid struct {
	objs []fastObj
	list bool
	err  error
}

// fastWant is a field of an object waiting for a read of the next level.
type fastWant[K any] struct {
	o   *fastObj
	i   int
	key K
}

func (x *fastExec) run(ctx context.Context, fc *graphql.FieldContext, typ, action string, resolve func(context.Context) (any, error)) (ret graphql.Marshaler) {
	defer func() {
		if p := recover(); p != nil {
			x.oc.Error(ctx, x.oc.Recover(ctx, p))
			ret = graphql.Null
		}
	}()
	// As gqlgen's resolveField: the field middleware (sizeCap), then @rateLimit, then the resolver.
	res, err := x.oc.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		return rateLimit(x.limits)(ctx, nil, resolve, action, nil)
	})
	if err != nil {
		x.oc.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
		return graphql.Null
	}
	root := &fastObj{typ: typ, v: res, index: -1, field: -1}
	if isNil(res) {
		return graphql.Null // user and post are nullable; users and posts never resolve to nil
	}
	fc.Result = res
	level := []*fastObj{root}
	root.fields = x.collect(fc.Field.Selections, typ)
	for len(level) > 0 {
		for _, o := range level {
			if !x.expand(ctx, o) {
				return graphql.Null // over the size cap: the answer is replaced by one error
			}
		}
		if x.budget != nil && x.budget.over.Load() {
			return graphql.Null
		}
		level = x.load(ctx)
	}
	var w fastWriter
	if x.budget != nil {
		w.buf.Grow(int(min(x.budget.used.Load(), x.budget.limit))) // about the answer's length
	}
	if !w.object(root) {
		return graphql.Null
	}
	return rawJSON(w.buf.Bytes())
}

// expand resolves o's fields that need no read, counting each against the size cap as sizeCap does, and
// gathers those that need one; it recurses into the objects it resolves. false: the cap is passed.
func (x *fastExec) expand(ctx context.Context, o *fastObj) bool {
	if o.kids == nil {
		o.kids = make([]fastKid, len(o.fields))
	}
	for i, f := range o.fields {
		if f.Name == "__typename" {
			continue
		}
		v, ok := plain(o, i)
		if !ok {
			x.want(o, i) // counted when its read comes back
			continue
		}
		if !x.count(f, v) {
			return false
		}
		if child := fastFields[o.typ][f.Name]; child != "" {
			o.kids[i] = x.children(o, i, child, v)
			for j := range o.kids[i].objs {
				if !x.expand(ctx, &o.kids[i].objs[j]) {
					return false
				}
			}
		}
	}
	return true
}

// count adds a resolved field to the answer's size, as sizeCap.InterceptField does; false once it is over.
func (x *fastExec) count(f graphql.CollectedField, v any) bool {
	if x.budget == nil {
		return true
	}
	if x.budget.over.Load() {
		return false
	}
	if x.budget.used.Add(valueBytes(v)+int64(len(f.Alias))+4) > x.budget.limit {
		x.budget.over.Store(true)
		return false
	}
	return true
}

// plain is o's field i's value when it needs no read; ok is false for a field that does (User.posts,
// Post.comments, Post.author, Comment.author).
func plain(o *fastObj, i int) (v any, ok bool) {
	f := o.fields[i]
	switch v := o.v.(type) {
	case *gql.UserConnection:
		if f.Name == "edges" {
			return v.Edges, true
		}
		return v.PageInfo, true
	case *gql.PostConnection:
		if f.Name == "edges" {
			return v.Edges, true
		}
		return v.PageInfo, true
	case *gql.UserEdge:
		if f.Name == "node" {
			return v.Node, true
		}
		return v.Cursor, true
	case *gql.PostEdge:
		if f.Name == "node" {
			return v.Node, true
		}
		return v.Cursor, true
	case *gql.PageInfo:
		switch f.Name {
		case "hasNextPage":
			return v.HasNextPage, true
		case "hasPreviousPage":
			return v.HasPreviousPage, true
		case "startCursor":
			return v.StartCursor, true
		}
		return v.EndCursor, true
	case *gql.User:
		switch f.Name {
		case "id":
			return v.ID, true
		case "name":
			return v.Name, true
		case "email":
			return v.Email, true
		case "createdAt":
			return v.CreatedAt, true
		case "updatedAt":
			return v.UpdatedAt, true
		}
	case *gql.Post:
		switch f.Name {
		case "id":
			return v.ID, true
		case "title":
			return v.Title, true
		case "content":
			return v.Content, true
		case "published":
			return v.Published, true
		case "publishedAt":
			return v.PublishedAt, true
		case "createdAt":
			return v.CreatedAt, true
		case "updatedAt":
			return v.UpdatedAt, true
		}
	case *gql.Comment:
		switch f.Name {
		case "id":
			return v.ID, true
		case "content":
			return v.Content, true
		case "createdAt":
			return v.CreatedAt, true
		}
	}
	return nil, false
}

// want queues the read o's field i needs (fastFields lists which fields need one).
func (x *fastExec) want(o *fastObj, i int) {
	switch v := o.v.(type) {
	case *gql.User: // posts
		x.wantChildren(o, i, v.ID, &x.posts)
	case *gql.Post:
		if o.fields[i].Name == "author" {
			x.users = append(x.users, fastWant[uuid.UUID]{o: o, i: i, key: v.AuthorID})
			return
		}
		x.wantChildren(o, i, v.ID, &x.comments)
	case *gql.Comment: // author
		x.users = append(x.users, fastWant[uuid.UUID]{o: o, i: i, key: v.AuthorID})
	}
}

// wantChildren queues User.posts or Post.comments for parent id, with the field's limit checked as its
// resolver checks it: a bad limit fails that field alone.
func (x *fastExec) wantChildren(o *fastObj, i int, id string, into *[]fastWant[childrenKey]) {
	f := o.fields[i].Field
	l, ok := x.perParent[f]
	if !ok {
		limit, _ := optional(f.ArgumentMap(x.oc.Variables)["limit"], graphql.UnmarshalInt) // read by fastSupported
		l = fastLimit{n: perParent(limit), err: service.CheckPerParent("limit", perParent(limit))}
		if x.perParent == nil {
			x.perParent = map[*ast.Field]fastLimit{}
		}
		x.perParent[f] = l
	}
	err := l.err
	var pid uuid.UUID
	if err == nil {
		pid, err = uuid.Parse(id)
	}
	if err != nil {
		x.fail(o, i, err)
		return
	}
	*into = append(*into, fastWant[childrenKey]{o: o, i: i, key: childrenKey{parent: pid, limit: l.n}})
}

// children are the objects of type typ that o's field i resolved to (v: a slice of them, or one).
func (x *fastExec) children(o *fastObj, i int, typ string, v any) fastKid {
	fields := x.collect(o.fields[i].Selections, typ)
	switch v := v.(type) {
	case []*gql.UserEdge:
		return listOf(o, i, typ, fields, v)
	case []*gql.PostEdge:
		return listOf(o, i, typ, fields, v)
	case []*gql.Post:
		return listOf(o, i, typ, fields, v)
	case []*gql.Comment:
		return listOf(o, i, typ, fields, v)
	}
	if isNil(v) {
		return fastKid{}
	}
	k := listOf(o, i, typ, fields, []any{v})
	k.list, k.objs[0].index = false, -1
	return k
}

// listOf makes the objects of a list, with one allocation for them all and one for their fields' results.
func listOf[T any](o *fastObj, i int, typ string, fields []graphql.CollectedField, items []T) fastKid {
	objs := make([]fastObj, len(items))
	kids := make([]fastKid, len(items)*len(fields))
	for j, item := range items {
		objs[j] = fastObj{typ: typ, v: item, fields: fields, kids: kids[j*len(fields) : (j+1)*len(fields) : (j+1)*len(fields)],
			parent: o, field: i, index: j}
	}
	return fastKid{objs: objs, list: true}
}

// selKey names a selection set as gqlgen's CollectFields cache does: by where its items are, which is stable for
// one operation.
type selKey struct {
	first *ast.Selection
	n     int
	typ   string
}

// collect is graphql.CollectFields, once per selection set and type for the whole answer rather than once per
// object.
func (x *fastExec) collect(sel ast.SelectionSet, typ string) []graphql.CollectedField {
	if len(sel) == 0 {
		return nil
	}
	k := selKey{first: &sel[0], n: len(sel), typ: typ}
	if f, ok := x.collected[k]; ok {
		return f
	}
	if x.collected == nil {
		x.collected = map[selKey][]graphql.CollectedField{}
	}
	f := graphql.CollectFields(x.oc, sel, []string{typ})
	x.collected[k] = f
	return f
}

// fail reports err at o's field i, as resolveField reports a resolver's error, and makes the field null.
func (x *fastExec) fail(o *fastObj, i int, err error) {
	o.kids[i] = fastKid{err: err}
	ctx := graphql.WithFieldContext(x.pathCtx(o), &graphql.FieldContext{Object: o.typ, Field: o.fields[i]})
	x.oc.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
}

// pathCtx is a context whose field contexts give o's path, as gqlgen's would.
func (x *fastExec) pathCtx(o *fastObj) context.Context {
	if o.parent == nil {
		return x.rootCtx
	}
	ctx := graphql.WithFieldContext(x.pathCtx(o.parent), &graphql.FieldContext{Object: o.parent.typ, Field: o.parent.fields[o.field]})
	if o.index >= 0 {
		i := o.index
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
	}
	return ctx
}

// load runs the reads the level just expanded asked for, one statement each (none for what an earlier level
// read), and returns the next level: the objects they resolved to. Each read is the dataloader's (loaders.go), so
// one read serves many limits.
func (x *fastExec) load(ctx context.Context) []*fastObj {
	var next []*fastObj
	if wants := x.posts; len(wants) > 0 {
		x.posts = nil
		err := fetchMissing(ctx, wants, &x.gotPosts, children(x.r.svc.Posts.ByAuthors))
		for _, w := range wants {
			if err != nil {
				x.fail(w.o, w.i, err)
				continue
			}
			next = x.resolved(next, w.o, w.i, "Post", toGQLPosts(x.gotPosts[w.key]))
		}
	}
	if wants := x.comments; len(wants) > 0 {
		x.comments = nil
		fetch := x.r.svc.Comments.ByPosts
		if x.authorsWanted(wants) {
			fetch = x.commentsWithAuthors
		}
		err := fetchMissing(ctx, wants, &x.gotComments, children(fetch))
		for _, w := range wants {
			if err != nil {
				x.fail(w.o, w.i, err)
				continue
			}
			next = x.resolved(next, w.o, w.i, "Comment", toGQLComments(x.gotComments[w.key]))
		}
	}
	if wants := x.users; len(wants) > 0 {
		x.users = nil
		err := fetchMissing(ctx, wants, &x.gotUsers, x.usersByID)
		for _, w := range wants {
			u, ok := x.gotUsers[w.key]
			switch {
			case err != nil:
				x.fail(w.o, w.i, err)
			case !ok:
				x.fail(w.o, w.i, &service.Error{Code: service.ENOTFOUND, Message: "User not found"})
			default:
				next = x.resolved(next, w.o, w.i, "User", u)
			}
		}
	}
	return next
}

// authorsWanted reports whether the comments the level asks for will have their authors asked for too, by a
// signed-in caller (users are theirs only): then they are read together, in one statement.
func (x *fastExec) authorsWanted(wants []fastWant[childrenKey]) bool {
	if _, ok := service.ActorFromContext(x.rootCtx); !ok {
		return false
	}
	var seen *ast.Field
	for _, w := range wants {
		f := w.o.fields[w.i]
		if f.Field == seen {
			continue
		}
		seen = f.Field
		for _, c := range x.collect(f.Selections, "Comment") {
			if c.Name == "author" {
				return true
			}
		}
	}
	return false
}

// commentsWithAuthors reads comments with their authors, keeping the authors for the next level's
// Comment.author.
func (x *fastExec) commentsWithAuthors(ctx context.Context, postIDs []uuid.UUID, perPost int) (map[uuid.UUID][]service.Comment, error) {
	comments, authors, err := x.r.svc.Comments.ByPostsWithAuthors(ctx, postIDs, perPost)
	if err != nil {
		return nil, err
	}
	if x.gotUsers == nil {
		x.gotUsers = make(map[uuid.UUID]*gql.User, len(authors))
	}
	for id, u := range authors {
		if _, ok := x.gotUsers[id]; !ok {
			x.gotUsers[id] = toGQLUser(u)
		}
	}
	return comments, nil
}

func (x *fastExec) usersByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*gql.User, error) {
	users, err := x.r.svc.Users.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*gql.User, len(users))
	for _, u := range users {
		byID[u.ID] = toGQLUser(u) // once per user, however many comments it wrote
	}
	return byID, nil
}

// fetchMissing reads, in one call of fetch, the keys of wants that got does not hold yet, and adds them to it
// (a key fetch does not return stays out of it).
func fetchMissing[K comparable, V any](ctx context.Context, wants []fastWant[K], got *map[K]V, fetch func(context.Context, []K) (map[K]V, error)) error {
	if *got == nil {
		*got = make(map[K]V, len(wants))
	}
	var missing []K
	var asked map[K]struct{}
	for _, w := range wants {
		if _, ok := (*got)[w.key]; ok {
			continue
		}
		if asked == nil {
			asked = make(map[K]struct{}, len(wants))
		}
		if _, ok := asked[w.key]; !ok {
			asked[w.key] = struct{}{}
			missing = append(missing, w.key)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	res, err := fetch(ctx, missing)
	if err != nil {
		return err
	}
	for k, v := range res {
		(*got)[k] = v
	}
	return nil
}

// resolved sets o's field i, which a read resolved to v, counts it, and appends its objects to next.
func (x *fastExec) resolved(next []*fastObj, o *fastObj, i int, typ string, v any) []*fastObj {
	if !x.count(o.fields[i], v) {
		return next
	}
	o.kids[i] = x.children(o, i, typ, v)
	for j := range o.kids[i].objs {
		next = append(next, &o.kids[i].objs[j])
	}
	return next
}

func isNil(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case *gql.User:
		return v == nil
	case *gql.Post:
		return v == nil
	case *gql.UserConnection:
		return v == nil
	case *gql.PostConnection:
		return v == nil
	case *gql.UserEdge:
		return v == nil
	case *gql.PostEdge:
		return v == nil
	case *gql.PageInfo:
		return v == nil
	case *gql.Comment:
		return v == nil
	}
	return false
}
