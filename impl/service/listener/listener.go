// Package listener hears what every instance commits: the events the services announce (for subscriptions), the
// users that changed (a trigger on users) and the lists whose totals changed (triggers on users and posts), over
// one dedicated PostgreSQL connection. It keeps the authentication cache coherent, trusting it only while
// connected, makes the totals cache forget what another instance's write changed, and hands every event to its
// handlers in commit order.
package listener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/authcache"
	"github.com/junction-dev/junction/impl/service/internal/totals"
)

// The PostgreSQL NOTIFY channels every instance listens on: events for subscribers (queries/posts.sql,
// EventNotify), the ids of users deleted or whose role or password changed (a trigger, migrations/00006), and the
// tables whose list totals changed (triggers, migrations/00017).
const (
	eventsChannel = "junction_events"
	usersChannel  = "junction_users"
	totalsChannel = "junction_totals"
)

// totalsOf is the prefix of the totals that a change to table (a junction_totals payload) makes stale: for a
// table it does not know, every total's ("") rather than none.
func totalsOf(table string) string {
	switch table {
	case "users":
		return totals.Users
	case "posts":
		return totals.Posts
	}
	return ""
}

// Handler is called with each event, one at a time, in commit order. It must not block for long: the next event
// waits for it.
type Handler func(ctx context.Context, e service.Event)

// Listener delivers every event from every instance between Start and Stop. It holds one dedicated connection (not
// one of the pool's) and reconnects with backoff when the connection drops; events sent while it is down are lost,
// as with any LISTEN, which subscriptions accept, and a [service.EventResync] follows every (re)connection.
type Listener struct {
	config *pgx.ConnConfig
	cache  *authcache.Cache
	totals *totals.Cache
	logger *slog.Logger

	mu       sync.Mutex
	handlers []Handler
	cancel   context.CancelFunc
	done     chan struct{}
	// listening is closed once the first connection listens.
	listening chan struct{}
	once      sync.Once
}

// New returns a Listener that connects as pool does and keeps cache and counts coherent with every instance's
// writes. pool must reach the server directly (DATABASE_SESSION_URL), not through a transaction pooler: a LISTEN
// there would stay on a server connection that other clients then use, and its notifications reach none of this
// listener's.
func New(pool *pgxpool.Pool, cache *authcache.Cache, counts *totals.Cache, logger *slog.Logger) *Listener {
	return &Listener{config: pool.Config().ConnConfig.Copy(), cache: cache, totals: counts, logger: logger, listening: make(chan struct{})}
}

// Listening is closed once the listener first listens: from then on every commit is heard (and the cache is on)
// while the connection stays up.
func (l *Listener) Listening() <-chan struct{} { return l.listening }

// Handle adds h to the handlers. Handlers added after Start do not hear the events delivered before.
func (l *Listener) Handle(h Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers = append(l.handlers, h)
}

// startWait bounds how long Start waits for the first connection. The database answered moments ago (the pool
// and the migrations need it), so this is a formality unless it just went away; then the listener keeps trying in
// the background, and until it connects the cache is off and subscribers hear nothing, which is safe.
const startWait = 5 * time.Second

// Start begins listening in the background. It returns once the listener listens, so that requests served after
// it find the cache on and their events heard, or after startWait, or when ctx ends.
func (l *Listener) Start(ctx context.Context) error {
	l.mu.Lock()
	if l.cancel != nil {
		l.mu.Unlock()
		return errors.New("listener: already started")
	}
	// Not ctx's cancellation: Stop ends the listener, in the order its owner chose.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel, l.done = cancel, make(chan struct{})
	done := l.done
	l.mu.Unlock()
	go func() {
		defer close(done)
		l.run(runCtx)
	}()
	select {
	case <-l.listening:
	case <-time.After(startWait):
		l.logger.WarnContext(ctx, "event listener not connected yet; serving with the authentication cache off until it is", "waited", startWait.String())
	case <-ctx.Done():
	}
	return nil
}

// Stop ends the listener and waits, until ctx ends, for its connection to close. The cache is off from then on.
func (l *Listener) Stop(ctx context.Context) error {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("listener: %w", ctx.Err())
	}
}

func (l *Listener) deliver(ctx context.Context, e service.Event) {
	l.mu.Lock()
	handlers := l.handlers
	l.mu.Unlock()
	for _, h := range handlers {
		h(ctx, e)
	}
}

func (l *Listener) run(ctx context.Context) {
	for ctx.Err() == nil {
		var conn *pgx.Conn
		err := retry.Do(ctx, func(ctx context.Context) error {
			var err error
			conn, err = pgx.ConnectConfig(ctx, l.config)
			if err != nil {
				return err
			}
			_, err = conn.Exec(ctx, "LISTEN "+eventsChannel+"; LISTEN "+usersChannel+"; LISTEN "+totalsChannel)
			return err
		}, retry.Policy{MaxAttempts: math.MaxInt, Initial: 100 * time.Millisecond, Max: 5 * time.Second, Retryable: func(error) bool { return true }})
		if err != nil {
			return // ctx ended
		}
		l.logger.InfoContext(ctx, "listening for events", "channels", []string{eventsChannel, usersChannel, totalsChannel})
		l.cache.Trust(true)
		// Whatever was written while the listener was away went unheard.
		l.totals.Forget("")
		l.once.Do(func() { close(l.listening) })
		l.deliver(ctx, service.Event{Kind: service.EventResync})
		err = l.receive(ctx, conn)
		l.cache.Trust(false)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() == nil {
			l.logger.WarnContext(ctx, "event listener lost its connection; reconnecting", "err", err)
		}
	}
}

func (l *Listener) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == totalsChannel {
			l.totals.Forget(totalsOf(n.Payload))
			continue
		}
		if n.Channel == usersChannel {
			if id, err := uuid.Parse(n.Payload); err == nil {
				l.cache.Evict(id)
				l.deliver(ctx, service.Event{Kind: service.EventUserChanged, ID: id})
			} else {
				l.cache.Reset() // an unreadable id: forget everyone rather than someone in particular
				l.deliver(ctx, service.Event{Kind: service.EventResync})
			}
			continue
		}
		var e service.Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			l.logger.WarnContext(ctx, "malformed event", "payload", n.Payload)
			continue
		}
		l.deliver(ctx, e)
	}
}
