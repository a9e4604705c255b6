package httpapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/idempotent"
	"github.com/junction-dev/junction/impl/service"
)

// Services are the business operations REST calls, one interface per service, each with what the handlers use.
// The services of impl/service/wire satisfy them.
type Services struct {
	Accounts  Accounts
	Users     Users
	Posts     Posts
	Comments  Comments
	Billing   Billing
	Endpoints Endpoints
	Ops       Ops
	// Idempotency runs the requests that carry an Idempotency-Key.
	Idempotency Idempotency
}

// missing names the services that are not set: a handler calling one would fail only when its route is hit.
func (s Services) missing() error {
	var names []string
	for name, set := range map[string]bool{
		"Accounts": s.Accounts != nil, "Users": s.Users != nil, "Posts": s.Posts != nil,
		"Comments": s.Comments != nil, "Billing": s.Billing != nil, "Endpoints": s.Endpoints != nil, "Ops": s.Ops != nil,
		"Idempotency": s.Idempotency != nil,
	} {
		if !set {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return fmt.Errorf("httpapi: services not set: %s", strings.Join(names, ", "))
}

// Idempotency stores and replays the answers of keyed requests (the idempotency service).
type Idempotency = idempotent.Store

// Accounts signs callers in (the accounts service).
type Accounts interface {
	authn.Tokens
	Login(ctx context.Context, email, password string) (service.Token, error)
	LoginAdmin(ctx context.Context, email, password string) (service.Token, error)
	RequestPasswordReset(ctx context.Context, email string) error
	ConfirmPasswordReset(ctx context.Context, token, newPassword string) error
}

// Users is the user resource (the users service).
type Users interface {
	Get(ctx context.Context, id uuid.UUID) (service.User, error)
	GetWithPosts(ctx context.Context, id uuid.UUID) (service.User, []service.Post, error)
	ByIDs(ctx context.Context, ids []uuid.UUID) ([]service.User, error)
	List(ctx context.Context, p service.ListUsersParams) (service.UserPage, error)
	Create(ctx context.Context, in service.CreateUserInput) (service.User, error)
	Update(ctx context.Context, id uuid.UUID, in service.UpdateUserInput) (service.User, error)
	Delete(ctx context.Context, id uuid.UUID, m service.Match) error
}

// Posts is the post resource (the posts service).
type Posts interface {
	Get(ctx context.Context, id uuid.UUID) (service.Post, error)
	List(ctx context.Context, p service.ListPostsParams) (service.PostPage, error)
	ListByAuthor(ctx context.Context, userID uuid.UUID, p service.ListPostsParams) (service.PostPage, error)
	Create(ctx context.Context, in service.CreatePostInput) (service.Post, error)
	Update(ctx context.Context, id uuid.UUID, in service.UpdatePostInput) (service.Post, error)
	Publish(ctx context.Context, id uuid.UUID, m service.Match) (service.Post, error)
	Delete(ctx context.Context, id uuid.UUID, m service.Match) error
}

// Comments is the comment resource (the comments service).
type Comments interface {
	ListByPost(ctx context.Context, postID uuid.UUID, p service.ListCommentsParams) (service.CommentPage, error)
	ListByAuthor(ctx context.Context, userID uuid.UUID, p service.ListCommentsParams) (service.CommentPage, error)
	Get(ctx context.Context, id uuid.UUID) (service.Comment, error)
	Create(ctx context.Context, postID uuid.UUID, content string) (service.Comment, error)
	Delete(ctx context.Context, id uuid.UUID, m service.Match) error
}

// Billing takes Stripe's events and shows them to admins (the billing service).
type Billing interface {
	ReceiveStripe(ctx context.Context, payload []byte) error
	List(ctx context.Context, p service.ListWebhookEventsParams) (service.WebhookEventPage, error)
	Replay(ctx context.Context, id uuid.UUID) (service.WebhookEvent, error)
}

// Endpoints manages where outgoing webhooks go (the endpoints service).
type Endpoints interface {
	List(ctx context.Context, page, limit int) (service.WebhookEndpointPage, error)
	Create(ctx context.Context, in service.CreateWebhookEndpointInput) (service.NewWebhookSecret, error)
	Get(ctx context.Context, id uuid.UUID) (service.WebhookEndpoint, error)
	Update(ctx context.Context, id uuid.UUID, in service.UpdateWebhookEndpointInput) (service.WebhookEndpoint, error)
	Delete(ctx context.Context, id uuid.UUID) error
	RotateSecret(ctx context.Context, id uuid.UUID) (service.NewWebhookSecret, error)
	Test(ctx context.Context, id uuid.UUID) (service.WebhookDelivery, error)
	ListDeliveries(ctx context.Context, id uuid.UUID, p service.ListWebhookDeliveriesParams) (service.WebhookDeliveryPage, error)
	Retry(ctx context.Context, id, deliveryID uuid.UUID) (service.WebhookDelivery, error)
	Recover(ctx context.Context, id uuid.UUID, since time.Time) (int, error)
}

// Ops answers readiness probes (the ops service).
type Ops interface {
	Ready(ctx context.Context) error
}
