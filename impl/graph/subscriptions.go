package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/service"
)

type subscriptionResolver struct{ *Resolver }

const subscriberBuffer = 32

func (r subscriptionResolver) PostCreated(ctx context.Context) (<-chan *gql.Post, error) {
	sess := sessionFrom(ctx)
	if !takeSlot(ctx, sess) {
		return closed[*gql.Post](), nil
	}
	s := &subscriber{kind: service.EventPostCreated, sess: sess, posts: make(chan *service.Post, subscriberBuffer)}
	r.broker.subscribe(ctx, s, releaser(sess))
	return relay(ctx, s, s.posts, func(p *service.Post) *gql.Post { return toGQLPost(*p) }), nil
}

func (r subscriptionResolver) CommentAdded(ctx context.Context, postID string) (<-chan *gql.Comment, error) {
	pid, err := parseID("postId", postID)
	if err != nil {
		return nil, err
	}
	// Only a post the subscriber can see may be watched.
	if _, err := r.svc.Posts.Get(ctx, pid); err != nil {
		return nil, err
	}
	sess := sessionFrom(ctx)
	if !takeSlot(ctx, sess) {
		return closed[*gql.Comment](), nil
	}
	s := &subscriber{kind: service.EventCommentAdded, postID: pid, sess: sess, comms: make(chan *service.Comment, subscriberBuffer)}
	r.broker.subscribe(ctx, s, releaser(sess))
	return relay(ctx, s, s.comms, func(c *service.Comment) *gql.Comment { return toGQLComment(*c) }), nil
}

// takeSlot takes one of the socket's subscription slots. When all are taken, the subscription is refused with an
// error message for its id (the protocol's answer to an operation that cannot start) rather than closing the
// socket: the client's other subscriptions are not at fault and carry on.
func takeSlot(ctx context.Context, sess *session) bool {
	if sess == nil || sess.acquireSub() {
		return true
	}
	transport.AddSubscriptionError(ctx, &gqlerror.Error{
		Message:    fmt.Sprintf("This connection has %d subscriptions, the most it may have; complete one first.", sess.maxSubs),
		Extensions: map[string]any{"code": "TOO_MANY_SUBSCRIPTIONS"},
	})
	return false
}

func releaser(sess *session) func() {
	if sess == nil {
		return func() {}
	}
	return sess.releaseSub
}

// closed is a stream that ends at once, for a refused subscription: gqlgen then sends the error added to ctx.
func closed[T any]() <-chan T {
	ch := make(chan T)
	close(ch)
	return ch
}

// relay converts what the broker delivers into the schema's type until the subscription ends. It checks the
// session before each delivery: an event buffered before the session ended is never sent after.
func relay[From, To any](ctx context.Context, s *subscriber, in <-chan From, convert func(From) To) <-chan To {
	out := make(chan To)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case v := <-in:
				if !s.live() {
					return
				}
				select {
				case out <- convert(v):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
