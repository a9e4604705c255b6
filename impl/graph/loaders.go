package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/junction-dev/junction/impl/service"
)

// loaders batch the nested reads of one request: every User.posts of a response in one statement, and so on.
// They are made per request because what a caller may see depends on who it is.
type loaders struct {
	users          *dataloadgen.Loader[uuid.UUID, service.User]
	posts          *dataloadgen.Loader[uuid.UUID, service.Post]
	postsByAuthor  *dataloadgen.Loader[uuid.UUID, []service.Post]
	commentsByPost *dataloadgen.Loader[uuid.UUID, []service.Comment]
}

type loadersKey struct{}

func newLoaders(svc *service.Service, batchWait time.Duration) *loaders {
	wait := dataloadgen.WithWait(batchWait)
	return &loaders{
		users: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]service.User, error) {
			return svc.LoadUsers(ctx, ids)
		}, wait),
		posts: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]service.Post, error) {
			return svc.LoadPosts(ctx, ids)
		}, wait),
		postsByAuthor: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]service.Post, error) {
			return withEmpty(svc.LoadPostsByAuthors(ctx, ids))(ids)
		}, wait),
		commentsByPost: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]service.Comment, error) {
			return withEmpty(svc.LoadCommentsByPosts(ctx, ids))(ids)
		}, wait),
	}
}

// withEmpty gives every key a (possibly empty) list, so that a parent with no children is not "not found".
func withEmpty[T any](m map[uuid.UUID][]T, err error) func([]uuid.UUID) (map[uuid.UUID][]T, error) {
	return func(ids []uuid.UUID) (map[uuid.UUID][]T, error) {
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if _, ok := m[id]; !ok {
				m[id] = []T{}
			}
		}
		return m, nil
	}
}

// withLoaders puts fresh loaders in each request's context. batchWait is how long a loader collects keys before
// it queries: long enough for the sibling resolvers of a list to ask, short enough not to be noticed.
func withLoaders(svc *service.Service, batchWait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loadersKey{}, newLoaders(svc, batchWait))))
	})
}

func loadersFrom(ctx context.Context, svc *service.Service) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(svc, 0) // a subscription's event: one read per field is all there is
}
