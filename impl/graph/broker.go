package graph

import (
	"context"
	"log/slog"
	"sync"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/impl/service"
)

// Broker fans the events of every instance (impl/service/listener hands them to Handle) out to this instance's
// subscribers. Each event is read once per instance; a subscriber too slow to keep up loses events rather than
// stalling the others.
//
// It also ends the signed-in WebSockets whose session no longer stands. The listener delivers user changes
// (deletion, role, password) in commit order with the events, one at a time, so a socket is rechecked, and ended,
// before any event committed after the change that ended it is published.
type Broker struct {
	svc    Services
	logger *slog.Logger

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	// sessions are the signed-in sockets, by user.
	sessions map[uuid.UUID]map[*session]struct{}
	// changed counts the user changes (and resyncs) heard, for sessions that authenticated meanwhile.
	changed uint64
}

type subscriber struct {
	kind   service.EventKind
	postID uuid.UUID // for comments: the post watched
	sess   *session  // nil outside a WebSocket
	posts  chan *service.Post
	comms  chan *service.Comment
}

// NewBroker returns a Broker. Hand its Handle to the event listener (impl/service/listener), which owns the
// connection and its lifecycle.
func NewBroker(svc Services, logger *slog.Logger) *Broker {
	return &Broker{svc: svc, logger: logger, subs: map[*subscriber]struct{}{}, sessions: map[uuid.UUID]map[*session]struct{}{}}
}

// Handle takes one event from the listener: it publishes posts and comments to their subscribers, and rechecks
// the sessions a user change (or a resync) may have ended.
func (b *Broker) Handle(ctx context.Context, e service.Event) {
	switch e.Kind {
	case service.EventUserChanged:
		b.recheck(ctx, &e.ID)
	case service.EventResync:
		b.recheck(ctx, nil)
	default:
		b.publish(ctx, e)
	}
}

// recheck ends the sessions of user id (of every user when id is nil) that no longer stand.
func (b *Broker) recheck(ctx context.Context, id *uuid.UUID) {
	b.mu.Lock()
	b.changed++
	var sessions []*session
	for uid, set := range b.sessions {
		if id != nil && uid != *id {
			continue
		}
		for s := range set {
			sessions = append(sessions, s)
		}
	}
	b.mu.Unlock()
	for _, s := range sessions {
		b.recheckSession(ctx, s)
	}
}

func (b *Broker) recheckSession(ctx context.Context, s *session) {
	err := b.svc.Accounts.Recheck(ctx, s.actor)
	switch {
	case err == nil:
	case service.ErrorCode(err) == service.EUNAUTHORIZED:
		s.end(closeUnauthorized, "session ended")
	case service.ErrorCode(err) == service.EFORBIDDEN:
		s.end(closeForbidden, "role changed")
	default:
		// Unsure whether the session stands: end it rather than deliver to it; the client reconnects and
		// authenticates again.
		b.logger.WarnContext(ctx, "websocket session could not be rechecked", "err", err)
		s.end(closeTryAgainLater, "try again later")
	}
}

// changes is where the user changes heard stand, for track.
func (b *Broker) changes() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// track registers a signed-in session until it ends, so that a change of its user ends it. If a change was heard
// since the socket arrived (s.seen), before it was tracked, it may have concerned this session unnoticed, so the
// session is rechecked now.
func (b *Broker) track(ctx context.Context, s *session) {
	b.mu.Lock()
	set := b.sessions[s.actor.UserID]
	if set == nil {
		set = map[*session]struct{}{}
		b.sessions[s.actor.UserID] = set
	}
	set[s] = struct{}{}
	missed := b.changed != s.seen
	b.mu.Unlock()
	if missed {
		b.recheckSession(ctx, s)
	}
}

// forget unregisters s.
func (b *Broker) forget(s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if set := b.sessions[s.actor.UserID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(b.sessions, s.actor.UserID)
		}
	}
}

func (b *Broker) publish(ctx context.Context, e service.Event) {
	b.mu.Lock()
	var targets []*subscriber
	for s := range b.subs {
		if s.kind == e.Kind && (e.Kind != service.EventCommentAdded || s.postID == e.PostID) && s.live() {
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
		p, err := b.svc.Posts.Get(ctx, e.ID)
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
		c, err := b.svc.Comments.Get(ctx, e.ID)
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

// live reports whether the subscriber's socket may still receive events.
func (s *subscriber) live() bool { return s.sess == nil || s.sess.live() }

// subscribe registers s until ctx ends, then calls done.
func (b *Broker) subscribe(ctx context.Context, s *subscriber, done func()) {
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		done()
	}()
}
