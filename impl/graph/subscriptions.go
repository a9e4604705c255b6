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
	out := make(chan *gql.Post)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case p := <-s.posts:
				select {
				case out <- toGQLPost(*p):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
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
	out := make(chan *gql.Comment)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-s.comms:
				select {
				case out <- toGQLComment(*c):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
