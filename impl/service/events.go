package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/impl/retry"
)

// The kinds of [Event].
const (
	EventPostCreated  = "post_created"
	EventCommentAdded = "comment_added"
	// EventUserChanged says that user ID was deleted, or their role or password changed (a trigger on users,
	// migrations/00006 and 00008). It is delivered in commit order with the others, after the authentication
	// cache forgot the user: a session that outlives a request ([Service.Recheck]) hears of the change before
	// any event committed after it.
	EventUserChanged = "user_changed"
	// EventResync says that any user may have changed unheard: the listener (re)connected, and what was sent
	// while it was down is lost, or a user notification could not be read. A listener that keeps sessions
	// rechecks them all.
	EventResync = "resync"
)

// The PostgreSQL NOTIFY channels every instance listens on: events for subscribers, and the ids of users deleted
// or whose role changed (sent by a trigger, migrations/00006) for the authentication cache.
const (
	eventsChannel = "junction_events"
	usersChannel  = "junction_users"
)

// Event says that something became visible to everyone: a post published, or a comment on a published post. It
// carries ids only (NOTIFY payloads are small); listeners read what they need.
type Event struct {
	Kind   string    `json:"kind"`
	ID     uuid.UUID `json:"id"`
	PostID uuid.UUID `json:"post_id"`
}

// notify sends e when tx commits, and never if it rolls back.
func (s *Service) notify(ctx context.Context, tx pgx.Tx, e Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := s.queries.EventNotify(ctx, tx, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", e.Kind, err)
	}
	return nil
}

// Listen delivers every event from every instance until ctx ends, one at a time and in commit order. It holds one dedicated connection (not one of
// the pool's) and reconnects with backoff when the connection drops; events sent while it is down are lost, as
// with any LISTEN, which subscriptions accept. It also keeps the authentication cache coherent: the cache is used
// only while this connection is up, since a user deleted meanwhile would go unheard.
func (s *Service) Listen(ctx context.Context, deliver func(Event)) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	for ctx.Err() == nil {
		var conn *pgx.Conn
		err := retry.Do(ctx, func(ctx context.Context) error {
			var err error
			conn, err = pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return err
			}
			_, err = conn.Exec(ctx, "LISTEN "+eventsChannel+"; LISTEN "+usersChannel)
			return err
		}, retry.Policy{MaxAttempts: math.MaxInt, Initial: 100 * time.Millisecond, Max: 5 * time.Second, Retryable: func(error) bool { return true }})
		if err != nil {
			return nil // ctx ended
		}
		s.logger.InfoContext(ctx, "listening for events", "channels", []string{eventsChannel, usersChannel})
		s.authCache.trust(true)
		deliver(Event{Kind: EventResync})
		err = s.receive(ctx, conn, deliver)
		s.authCache.trust(false)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() == nil {
			s.logger.WarnContext(ctx, "event listener lost its connection; reconnecting", "err", err)
		}
	}
	return nil
}

func (s *Service) receive(ctx context.Context, conn *pgx.Conn, deliver func(Event)) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == usersChannel {
			if id, err := uuid.Parse(n.Payload); err == nil {
				s.authCache.evict(id)
				deliver(Event{Kind: EventUserChanged, ID: id})
			} else {
				s.authCache.trust(true) // an unreadable id: forget everyone rather than someone in particular
				deliver(Event{Kind: EventResync})
			}
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			s.logger.WarnContext(ctx, "malformed event", "payload", n.Payload)
			continue
		}
		deliver(e)
	}
}
