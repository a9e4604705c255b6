package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/service"
)

// Resolver is the root of the resolvers: one service, one broker.
type Resolver struct {
	svc    Services
	broker *Broker
}

var _ gql.ResolverRoot = (*Resolver)(nil)

func (r *Resolver) Query() gql.QueryResolver                   { return queryResolver{r} }
func (r *Resolver) Mutation() gql.MutationResolver             { return mutationResolver{r} }
func (r *Resolver) Subscription() gql.SubscriptionResolver     { return subscriptionResolver{r} }
func (r *Resolver) User() gql.UserResolver                     { return userResolver{r} }
func (r *Resolver) Post() gql.PostResolver                     { return postResolver{r} }
func (r *Resolver) Comment() gql.CommentResolver               { return commentResolver{r} }
func (r *Resolver) UserConnection() gql.UserConnectionResolver { return userConnectionResolver{r} }
func (r *Resolver) PostConnection() gql.PostConnectionResolver { return postConnectionResolver{r} }

type queryResolver struct{ *Resolver }

func (r queryResolver) User(ctx context.Context, id string) (*gql.User, error) {
	uid, err := parseID("id", id)
	if err != nil {
		return nil, err
	}
	u, err := r.svc.Users.Get(ctx, uid)
	if service.ErrorCode(err) == service.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toGQLUser(u), nil
}

func (r queryResolver) Post(ctx context.Context, id string) (*gql.Post, error) {
	pid, err := parseID("id", id)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.Posts.Get(ctx, pid)
	if service.ErrorCode(err) == service.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toGQLPost(p), nil
}

func (r queryResolver) Users(ctx context.Context, page, limit *int, search *string, first *int, after *string, last *int, before *string) (*gql.UserConnection, error) {
	term := deref(search)
	res, err := listPage(ctx, page, limit, service.KeysetParams{First: first, Last: last, After: after, Before: before},
		func(k service.KeysetParams) (service.Page[service.User], error) {
			return r.svc.Users.ByCursor(ctx, term, k)
		},
		func(page, limit int) ([]service.User, bool, error) {
			res, err := r.svc.Users.List(ctx, service.ListUsersParams{Page: page, Limit: limit, Search: term, SkipTotal: true})
			return res.Users, res.HasMore, err
		},
		func(u service.User) service.Cursor { return service.Cursor{CreatedAt: u.CreatedAt, ID: u.ID} })
	if err != nil {
		return nil, err
	}
	return &gql.UserConnection{Search: term, PageInfo: pageInfo(res), Edges: edges(res, func(u service.User, cursor string) *gql.UserEdge {
		return &gql.UserEdge{Node: toGQLUser(u), Cursor: cursor}
	})}, nil
}

func (r queryResolver) Posts(ctx context.Context, page, limit *int, published *bool, first *int, after *string, last *int, before *string) (*gql.PostConnection, error) {
	res, err := listPage(ctx, page, limit, service.KeysetParams{First: first, Last: last, After: after, Before: before},
		func(k service.KeysetParams) (service.Page[service.Post], error) {
			return r.svc.Posts.ByCursor(ctx, published, k)
		},
		func(page, limit int) ([]service.Post, bool, error) {
			res, err := r.svc.Posts.List(ctx, service.ListPostsParams{Page: page, Limit: limit, Published: published, SkipTotal: true})
			return res.Posts, res.HasMore, err
		},
		func(p service.Post) service.Cursor { return service.Cursor{CreatedAt: p.CreatedAt, ID: p.ID} })
	if err != nil {
		return nil, err
	}
	return &gql.PostConnection{Published: published, PageInfo: pageInfo(res), Edges: edges(res, func(p service.Post, cursor string) *gql.PostEdge {
		return &gql.PostEdge{Node: toGQLPost(p), Cursor: cursor}
	})}, nil
}

// listPage reads the page a list query asks for, as one keyset page whichever paging it uses. Relay's arguments
// go to byCursor; mixing them with page or limit is refused. Otherwise page and limit go to byPage, and each item
// gets its cursor from cursorOf, so that a client can switch to cursors from any page; there is a previous page
// when this is not the first.
func listPage[T any](ctx context.Context, page, limit *int, k service.KeysetParams,
	byCursor func(service.KeysetParams) (service.Page[T], error),
	byPage func(page, limit int) (items []T, hasMore bool, err error),
	cursorOf func(T) service.Cursor,
) (service.Page[T], error) {
	if k.First != nil || k.Last != nil || k.After != nil || k.Before != nil {
		if fieldSet(ctx, "page") || fieldSet(ctx, "limit") {
			return service.Page[T]{}, mixedPaging()
		}
		return byCursor(k)
	}
	items, hasMore, err := byPage(deref(page), deref(limit))
	if err != nil {
		return service.Page[T]{}, err
	}
	cursors := make([]string, len(items))
	for i, item := range items {
		cursors[i] = service.EncodeCursor(cursorOf(item))
	}
	return service.Page[T]{Items: items, Cursors: cursors, HasNext: hasMore, HasPrevious: deref(page) > 1}, nil
}

// edges are a page's items with their cursors, as a connection's edges (nil for an empty page).
func edges[T, E any](p service.Page[T], edge func(item T, cursor string) E) []E {
	var out []E
	for i, item := range p.Items {
		out = append(out, edge(item, p.Cursors[i]))
	}
	return out
}

// pageInfo is Relay's PageInfo of a page: whether there is more either way, and its first and last cursors.
func pageInfo[T any](p service.Page[T]) *gql.PageInfo {
	pi := &gql.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious}
	if len(p.Cursors) > 0 {
		pi.StartCursor, pi.EndCursor = &p.Cursors[0], &p.Cursors[len(p.Cursors)-1]
	}
	return pi
}

// fieldSet reports whether the query passed an argument explicitly (page and limit have defaults).
func fieldSet(ctx context.Context, arg string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	for _, a := range fc.Field.Arguments {
		if a.Name == arg {
			return true
		}
	}
	return false
}

func mixedPaging() error {
	return &service.Error{Code: service.EINVALID, Message: "Use page/limit or first/after/last/before, not both.",
		Fields: map[string][]string{"page": {"cannot be combined with cursors"}}}
}

type userConnectionResolver struct{ *Resolver }

func (r userConnectionResolver) TotalCount(ctx context.Context, obj *gql.UserConnection) (int, error) {
	n, err := r.svc.Users.Count(ctx, obj.Search)
	return int(n), err
}

type postConnectionResolver struct{ *Resolver }

func (r postConnectionResolver) TotalCount(ctx context.Context, obj *gql.PostConnection) (int, error) {
	n, err := r.svc.Posts.Count(ctx, obj.Published)
	return int(n), err
}

type userResolver struct{ *Resolver }

func (r userResolver) Posts(ctx context.Context, obj *gql.User, limit *int) ([]*gql.Post, error) {
	id, err := uuid.Parse(obj.ID)
	if err != nil {
		return nil, err
	}
	n := perParent(limit)
	// Checked here as well as in the service, so that one bad limit fails its own field, not its whole batch.
	if err := service.CheckPerParent("limit", n); err != nil {
		return nil, err
	}
	posts, err := loadersFrom(ctx, r.svc).postsByAuthor.Load(ctx, childrenKey{parent: id, limit: n})
	if err != nil {
		return nil, err
	}
	return toGQLPosts(posts), nil
}

type postResolver struct{ *Resolver }

func (r postResolver) Author(ctx context.Context, obj *gql.Post) (*gql.User, error) {
	u, err := loadersFrom(ctx, r.svc).users.Load(ctx, obj.AuthorID)
	if err != nil {
		return nil, loadError(err, "User")
	}
	return toGQLUser(u), nil
}

func (r postResolver) Comments(ctx context.Context, obj *gql.Post, limit *int) ([]*gql.Comment, error) {
	id, err := uuid.Parse(obj.ID)
	if err != nil {
		return nil, err
	}
	n := perParent(limit)
	if err := service.CheckPerParent("limit", n); err != nil {
		return nil, err
	}
	comments, err := loadersFrom(ctx, r.svc).commentsByPost.Load(ctx, childrenKey{parent: id, limit: n})
	if err != nil {
		return nil, err
	}
	out := make([]*gql.Comment, len(comments))
	for i, c := range comments {
		out[i] = toGQLComment(c)
	}
	return out, nil
}

type commentResolver struct{ *Resolver }

func (r commentResolver) Author(ctx context.Context, obj *gql.Comment) (*gql.User, error) {
	u, err := loadersFrom(ctx, r.svc).users.Load(ctx, obj.AuthorID)
	if err != nil {
		return nil, loadError(err, "User")
	}
	return toGQLUser(u), nil
}

func (r commentResolver) Post(ctx context.Context, obj *gql.Comment) (*gql.Post, error) {
	p, err := loadersFrom(ctx, r.svc).posts.Load(ctx, obj.PostID)
	if err != nil {
		return nil, loadError(err, "Post")
	}
	return toGQLPost(p), nil
}

// loadError turns a mapped loader's "key not found" into the service's ENOTFOUND.
func loadError(err error, what string) error {
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return &service.Error{Code: service.ENOTFOUND, Message: what + " not found"}
	}
	return err
}

// perParent is the limit of User.posts or Post.comments; the schema's default fills it unless it is an explicit
// null.
func perParent(limit *int) int {
	if limit == nil {
		return service.DefaultPerParent
	}
	return *limit
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
