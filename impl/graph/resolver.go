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

// usesCursors tells Relay paging from page/limit paging; mixing them is refused.
func usesCursors(first, last *int, after, before *string) bool {
	return first != nil || last != nil || after != nil || before != nil
}

func (r queryResolver) Users(ctx context.Context, page, limit *int, search *string, first *int, after *string, last *int, before *string) (*gql.UserConnection, error) {
	term := deref(search)
	conn := &gql.UserConnection{Search: term, PageInfo: &gql.PageInfo{}}
	if usesCursors(first, last, after, before) {
		if fieldSet(ctx, "page") || fieldSet(ctx, "limit") {
			return nil, mixedPaging()
		}
		res, err := r.svc.Users.ByCursor(ctx, term, service.KeysetParams{First: first, Last: last, After: after, Before: before})
		if err != nil {
			return nil, err
		}
		for i, u := range res.Items {
			conn.Edges = append(conn.Edges, &gql.UserEdge{Node: toGQLUser(u), Cursor: res.Cursors[i]})
		}
		setPageInfo(conn.PageInfo, res.Cursors, res.HasNext, res.HasPrevious)
		return conn, nil
	}
	p := service.ListUsersParams{Page: deref(page), Limit: deref(limit), Search: term, SkipTotal: true}
	res, err := r.svc.Users.List(ctx, p)
	if err != nil {
		return nil, err
	}
	cursors := make([]string, len(res.Users))
	for i, u := range res.Users {
		cursors[i] = service.EncodeCursor(service.Cursor{CreatedAt: u.CreatedAt, ID: u.ID})
		conn.Edges = append(conn.Edges, &gql.UserEdge{Node: toGQLUser(u), Cursor: cursors[i]})
	}
	setPageInfo(conn.PageInfo, cursors, res.HasMore, deref(page) > 1)
	return conn, nil
}

func (r queryResolver) Posts(ctx context.Context, page, limit *int, published *bool, first *int, after *string, last *int, before *string) (*gql.PostConnection, error) {
	conn := &gql.PostConnection{Published: published, PageInfo: &gql.PageInfo{}}
	if usesCursors(first, last, after, before) {
		if fieldSet(ctx, "page") || fieldSet(ctx, "limit") {
			return nil, mixedPaging()
		}
		res, err := r.svc.Posts.ByCursor(ctx, published, service.KeysetParams{First: first, Last: last, After: after, Before: before})
		if err != nil {
			return nil, err
		}
		for i, p := range res.Items {
			conn.Edges = append(conn.Edges, &gql.PostEdge{Node: toGQLPost(p), Cursor: res.Cursors[i]})
		}
		setPageInfo(conn.PageInfo, res.Cursors, res.HasNext, res.HasPrevious)
		return conn, nil
	}
	res, err := r.svc.Posts.List(ctx, service.ListPostsParams{Page: deref(page), Limit: deref(limit), Published: published, SkipTotal: true})
	if err != nil {
		return nil, err
	}
	cursors := make([]string, len(res.Posts))
	for i, p := range res.Posts {
		cursors[i] = service.EncodeCursor(service.Cursor{CreatedAt: p.CreatedAt, ID: p.ID})
		conn.Edges = append(conn.Edges, &gql.PostEdge{Node: toGQLPost(p), Cursor: cursors[i]})
	}
	setPageInfo(conn.PageInfo, cursors, res.HasMore, deref(page) > 1)
	return conn, nil
}

func setPageInfo(pi *gql.PageInfo, cursors []string, hasNext, hasPrevious bool) {
	pi.HasNextPage, pi.HasPreviousPage = hasNext, hasPrevious
	if len(cursors) > 0 {
		pi.StartCursor, pi.EndCursor = &cursors[0], &cursors[len(cursors)-1]
	}
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
