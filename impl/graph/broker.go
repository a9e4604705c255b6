package graph

import (
	"context"
	"log/slog"
	"sync"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/service"
)

// Broker fans the events of every instance (the service's LISTEN) out to this instance's subscribers. Each event
// is read once per instance; a subscriber too slow to keep up loses events rather than stalling the others.
type Broker struct {
	svc    *service.Service
	logger *slog.Logger

	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	kind   string
	postID uuid.UUID // for comments: the post watched
	posts  chan *service.Post
	comms  chan *service.Comment
}

// NewBroker returns a Broker; Run starts its listener.
func NewBroker(svc *service.Service, logger *slog.Logger) *Broker {
	return &Broker{svc: svc, logger: logger, subs: map[*subscriber]struct{}{}}
}

// Run listens for events until ctx ends.
func (b *Broker) Run(ctx context.Context) error {
	return b.svc.Listen(ctx, func(e service.Event) { b.publish(ctx, e) })
}

func (b *Broker) publish(ctx context.Context, e service.Event) {
	b.mu.Lock()
	var targets []*subscriber
	for s := range b.subs {
		if s.kind == e.Kind && (e.Kind != service.EventCommentAdded || s.postID == e.PostID) {
			targets = append(targets, s)
		}
	}
	b.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	// Events are only sent for what everyone may see, so one anonymous read serves every subscriber.
	switch e.Kind {
	case service.EventPostCreated:
		p, err := b.svc.GetPost(ctx, e.ID)
		if err != nil {
			b.logger.WarnContext(ctx, "event for a post that cannot be read", "post", e.ID, "err", err)
			return
		}
		for _, s := range targets {
			select {
			case s.posts <- &p:
			default:
			}
		}
	case service.EventCommentAdded:
		c, err := b.svc.GetComment(ctx, e.ID)
		if err != nil {
			b.logger.WarnContext(ctx, "event for a comment that cannot be read", "comment", e.ID, "err", err)
			return
		}
		for _, s := range targets {
			select {
			case s.comms <- &c:
			default:
			}
		}
	}
}

// subscribe registers s until ctx ends.
func (b *Broker) subscribe(ctx context.Context, s *subscriber) {
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
	}()
}
