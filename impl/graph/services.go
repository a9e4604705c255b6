package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/idempotent"
	"github.com/junction-dev/junction/impl/service"
)

// Services are the business operations the resolvers, the broker and the loaders call, one interface per service,
// each with what GraphQL uses. The services of impl/service/wire satisfy them.
type Services struct {
	Accounts Accounts
	Users    Users
	Posts    Posts
	Comments Comments
	// Idempotency runs the mutations sent with an Idempotency-Key (the idempotency service).
	Idempotency idempotent.Store
}

// Accounts signs callers in and rechecks long sessions (the accounts service).
type Accounts interface {
	authn.Tokens
	Login(ctx context.Context, email, password string) (service.Token, error)
	Recheck(ctx context.Context, a service.Actor) error
}

// Users is the user resource (the users service).
type Users interface {
	Get(ctx context.Context, id uuid.UUID) (service.User, error)
	ByIDs(ctx context.Context, ids []uuid.UUID) ([]service.User, error)
	List(ctx context.Context, p service.ListUsersParams) (service.UserPage, error)
	ByCursor(ctx context.Context, search string, p service.KeysetParams) (service.Page[service.User], error)
	Count(ctx context.Context, search string) (int64, error)
	Create(ctx context.Context, in service.CreateUserInput) (service.User, error)
	Update(ctx context.Context, id uuid.UUID, in service.UpdateUserInput) (service.User, error)
	Delete(ctx context.Context, id uuid.UUID, m service.Match) error
}

// Posts is the post resource (the posts service).
type Posts interface {
	Get(ctx context.Context, id uuid.UUID) (service.Post, error)
	ByIDs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]service.Post, error)
	ByAuthors(ctx context.Context, authorIDs []uuid.UUID, perAuthor int) (map[uuid.UUID][]service.Post, error)
	List(ctx context.Context, p service.ListPostsParams) (service.PostPage, error)
	ByCursor(ctx context.Context, published *bool, p service.KeysetParams) (service.Page[service.Post], error)
	Count(ctx context.Context, published *bool) (int64, error)
	Create(ctx context.Context, in service.CreatePostInput) (service.Post, error)
	Publish(ctx context.Context, id uuid.UUID, m service.Match) (service.Post, error)
}

// Comments is the comment resource (the comments service).
type Comments interface {
	Get(ctx context.Context, id uuid.UUID) (service.Comment, error)
	ByPosts(ctx context.Context, postIDs []uuid.UUID, perPost int) (map[uuid.UUID][]service.Comment, error)
	// ByPostsWithAuthors is ByPosts with the comments' authors, in one statement; signed-in callers only.
	ByPostsWithAuthors(ctx context.Context, postIDs []uuid.UUID, perPost int) (map[uuid.UUID][]service.Comment, map[uuid.UUID]service.User, error)
	Create(ctx context.Context, postID uuid.UUID, content string) (service.Comment, error)
}
