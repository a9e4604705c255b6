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
	postsByAuthor  *dataloadgen.Loader[childrenKey, []service.Post]
	commentsByPost *dataloadgen.Loader[childrenKey, []service.Comment]
}

// childrenKey asks for the first limit children of a parent. Parents asked for with different limits (aliases
// such as a: posts(limit: 1) b: posts(limit: 50)) still share one statement: it fetches the largest limit asked
// for, and each key keeps its own first limit.
type childrenKey struct {
	parent uuid.UUID
	limit  int
}

type loadersKey struct{}

func newLoaders(svc Services, batchWait time.Duration) *loaders {
	wait := dataloadgen.WithWait(batchWait)
	return &loaders{
		users: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]service.User, error) {
			users, err := svc.Users.ByIDs(ctx, ids)
			if err != nil {
				return nil, err
			}
			byID := make(map[uuid.UUID]service.User, len(users))
			for _, u := range users {
				byID[u.ID] = u
			}
			return byID, nil
		}, wait),
		posts:          dataloadgen.NewMappedLoader(svc.Posts.ByIDs, wait),
		postsByAuthor:  dataloadgen.NewMappedLoader(children(svc.Posts.ByAuthors), wait),
		commentsByPost: dataloadgen.NewMappedLoader(children(svc.Comments.ByPosts), wait),
	}
}

// children turns a batch read of many parents' first n children into a loader's fetch over childrenKeys: one
// read with the largest limit among the keys, each key then cut to its own limit. Every key gets a (possibly
// empty) list, so that a parent with no children is not "not found".
func children[T any](load func(context.Context, []uuid.UUID, int) (map[uuid.UUID][]T, error)) func(context.Context, []childrenKey) (map[childrenKey][]T, error) {
	return func(ctx context.Context, keys []childrenKey) (map[childrenKey][]T, error) {
		parents := make([]uuid.UUID, 0, len(keys))
		seen := make(map[uuid.UUID]struct{}, len(keys))
		most := 0
		for _, k := range keys {
			most = max(most, k.limit)
			if _, ok := seen[k.parent]; !ok {
				seen[k.parent] = struct{}{}
				parents = append(parents, k.parent)
			}
		}
		byParent, err := load(ctx, parents, most)
		if err != nil {
			return nil, err
		}
		out := make(map[childrenKey][]T, len(keys))
		for _, k := range keys {
			items := byParent[k.parent]
			if items == nil {
				items = []T{}
			}
			out[k] = items[:min(len(items), k.limit)]
		}
		return out, nil
	}
}

// withLoaders puts fresh loaders in each request's context. batchWait is how long a loader collects keys before
// it queries: long enough for the sibling resolvers of a list to ask, short enough not to be noticed.
func withLoaders(svc Services, batchWait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loadersKey{}, newLoaders(svc, batchWait))))
	})
}

func loadersFrom(ctx context.Context, svc Services) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(svc, 0) // a subscription's event: one read per field is all there is
}
