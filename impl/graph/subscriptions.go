package graph

import (
	"context"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/service"
)

type subscriptionResolver struct{ *Resolver }

const subscriberBuffer = 32

func (r subscriptionResolver) PostCreated(ctx context.Context) (<-chan *gql.Post, error) {
	s := &subscriber{kind: service.EventPostCreated, posts: make(chan *service.Post, subscriberBuffer)}
	r.broker.subscribe(ctx, s)
	return relay(ctx, s.posts, func(p *service.Post) *gql.Post { return toGQLPost(*p) }), nil
}

func (r subscriptionResolver) CommentAdded(ctx context.Context, postID string) (<-chan *gql.Comment, error) {
	pid, err := parseID("postId", postID)
	if err != nil {
		return nil, err
	}
	// Only a post the subscriber can see may be watched.
	if _, err := r.svc.GetPost(ctx, pid); err != nil {
		return nil, err
	}
	s := &subscriber{kind: service.EventCommentAdded, postID: pid, comms: make(chan *service.Comment, subscriberBuffer)}
	r.broker.subscribe(ctx, s)
	return relay(ctx, s.comms, func(c *service.Comment) *gql.Comment { return toGQLComment(*c) }), nil
}

// relay converts what the broker delivers into the schema's type until the subscription ends.
func relay[From, To any](ctx context.Context, in <-chan From, convert func(From) To) <-chan To {
	out := make(chan To)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case v := <-in:
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
