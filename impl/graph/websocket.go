package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/service"
)

// WebSocketOptions cap the GraphQL WebSockets. A WebSocket holds no request slot (MAX_CONCURRENT_REQUESTS) and no
// request deadline, as it lives as long as its client: these caps are what bound it instead. 0 turns a cap off.
type WebSocketOptions struct {
	// MaxConnections caps the sockets open at once on this instance; one more is refused 503 before the upgrade.
	MaxConnections int
	// MaxConnectionsPerIP caps the sockets one client (clientip.Key) has open at once; one more is refused 429.
	MaxConnectionsPerIP int
	// MaxSubscriptions caps the subscriptions active at once on one socket; one more gets an error message for
	// its id, and the socket and its other subscriptions carry on.
	MaxSubscriptions int
	// MessageRate is how many messages per second a socket may send, with a burst of twice as many; a socket
	// that sends faster is closed with 1008 (policy violation).
	MessageRate int
}

// The close codes a socket ends with, besides gqlgen's own (1000, 1002). 4401 and 4403 are the GraphQL over
// WebSocket protocol's Unauthorized and Forbidden (enisdenjo/graphql-ws PROTOCOL.md); the protocol has no code
// for flooding (its 4429 means "too many initialisation requests", a different fault), so a flood gets RFC 6455's
// 1008 Policy Violation, which graphql-ws clients treat as fatal rather than reconnecting at once.
const (
	closeUnauthorized    = 4401 // the token expired, the user was deleted, or a password reset voided the token
	closeForbidden       = 4403 // the user's role changed: reconnect to get the new one
	closePolicyViolation = 1008 // too many messages
	closeTryAgainLater   = 1013 // the session could not be rechecked (the database failed)
	closeGoingAway       = 1001 // the server is shutting down: reconnect, to another instance
)

// session is one WebSocket: who it is for, how it ends, and what it may still do. It lives in the upgrade
// request's context (gqlgen derives every operation's context from it), so the transport wrapper, the init
// function, the resolvers and the broker all see the same one.
type session struct {
	// actor is set once, by the init function, before the session is tracked by the broker.
	actor    service.Actor
	signedIn bool
	maxSubs  int

	mu     sync.Mutex
	ended  bool
	code   int
	reason string
	cancel context.CancelFunc // ends the connection's context, which makes gqlgen close the socket
	timer  *time.Timer        // fires at the token's expiry
	subs   int
	done   chan struct{}
	// seen is where the broker's user changes stood when the socket arrived, before anything authenticated it:
	// a change heard after that may concern it unnoticed (see Broker.track).
	seen uint64
}

type sessionKey struct{}

func newSession(maxSubs int) *session { return &session{maxSubs: maxSubs, done: make(chan struct{})} }

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// signIn records the socket's actor and arms the timer that ends it at the token's expiry.
func (s *session) signIn(a service.Actor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actor, s.signedIn = a, true
	if s.ended || a.TokenExpiresAt.IsZero() {
		return
	}
	s.timer = time.AfterFunc(time.Until(a.TokenExpiresAt), func() { s.end(closeUnauthorized, "token expired") })
}

// setCancel gives the session the cancel function of the connection's context; a session that already ended is
// cancelled at once.
func (s *session) setCancel(cancel context.CancelFunc) {
	s.mu.Lock()
	s.cancel = cancel
	ended := s.ended
	s.mu.Unlock()
	if ended {
		cancel()
	}
}

// end closes the socket with code and reason. The first call wins; from it on nothing more is written to the
// socket but its close frame.
func (s *session) end(code int, reason string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended, s.code, s.reason = true, code, reason
	cancel := s.cancel
	if s.timer != nil {
		s.timer.Stop()
	}
	close(s.done)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// live reports whether the socket may still receive anything: it has not ended, and its token has not expired
// (the timer may not have fired yet). It is checked before each delivery.
func (s *session) live() bool {
	s.mu.Lock()
	ended, signedIn, exp := s.ended, s.signedIn, s.actor.TokenExpiresAt
	s.mu.Unlock()
	if ended {
		return false
	}
	if signedIn && !exp.IsZero() && !time.Now().Before(exp) {
		s.end(closeUnauthorized, "token expired")
		return false
	}
	return true
}

// closeCode is the code and reason the session ended with, if it did.
func (s *session) closeCode() (int, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason, s.ended
}

// acquireSub takes one of the socket's subscription slots; false when all are taken.
func (s *session) acquireSub() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxSubs > 0 && s.subs >= s.maxSubs {
		return false
	}
	s.subs++
	return true
}

func (s *session) releaseSub() {
	s.mu.Lock()
	s.subs--
	s.mu.Unlock()
}

// wsCaps counts the open sockets, in all and per client, and refuses one more before the upgrade. It also knows
// every open socket's session, so that a shutdown can end them all.
type wsCaps struct {
	opts WebSocketOptions

	mu       sync.Mutex
	total    int
	perIP    map[string]int
	sessions map[*session]struct{}
	closing  bool
	// gone is closed when the last session leaves after closeAll.
	gone chan struct{}
}

func newWSCaps(opts WebSocketOptions) *wsCaps {
	return &wsCaps{opts: opts, perIP: map[string]int{}, sessions: map[*session]struct{}{}}
}

// acquire takes a socket for client key and its session, or answers why not (429, or 503 when full or shutting
// down) and returns false.
func (c *wsCaps) acquire(w http.ResponseWriter, key string, sess *session) (release func(), ok bool) {
	c.mu.Lock()
	switch {
	case c.closing:
		c.mu.Unlock()
		refuse(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The server is shutting down; connect again.")
		return nil, false
	case c.opts.MaxConnectionsPerIP > 0 && c.perIP[key] >= c.opts.MaxConnectionsPerIP:
		c.mu.Unlock()
		refuse(w, http.StatusTooManyRequests, "RATE_LIMITED",
			fmt.Sprintf("Too many WebSockets from this client: at most %d may be open at once.", c.opts.MaxConnectionsPerIP))
		return nil, false
	case c.opts.MaxConnections > 0 && c.total >= c.opts.MaxConnections:
		c.mu.Unlock()
		refuse(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The server has as many WebSockets open as it takes; retry shortly.")
		return nil, false
	}
	c.total++
	c.perIP[key]++
	c.sessions[sess] = struct{}{}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.total--
		if c.perIP[key]--; c.perIP[key] <= 0 {
			delete(c.perIP, key)
		}
		delete(c.sessions, sess)
		if c.closing && len(c.sessions) == 0 && c.gone != nil {
			close(c.gone)
			c.gone = nil
		}
	}, true
}

// closeAll refuses new sockets, ends every open one with 1001 (Going Away), and waits until they have closed or
// ctx ends. http.Server.Shutdown does neither: a WebSocket is a hijacked connection it no longer tracks.
func (c *wsCaps) closeAll(ctx context.Context) error {
	c.mu.Lock()
	c.closing = true
	open := make([]*session, 0, len(c.sessions))
	for s := range c.sessions {
		open = append(open, s)
	}
	var gone chan struct{}
	if len(open) > 0 {
		if c.gone == nil {
			c.gone = make(chan struct{})
		}
		gone = c.gone
	}
	c.mu.Unlock()
	for _, s := range open {
		s.end(closeGoingAway, "server shutting down")
	}
	if gone == nil {
		return nil
	}
	select {
	case <-gone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("websockets: %d still open: %w", len(open), ctx.Err())
	}
}

// refuse answers a WebSocket upgrade with status in GraphQL's JSON error shape.
func refuse(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Retry-After", "1")
	writeError(w, status, message, map[string]any{"code": code})
}

// wsImplementation accepts WebSockets with coder/websocket, as gqlgen does by default, and wraps each in a wsConn
// bound to the request's session.
type wsImplementation struct {
	inner transport.WebsocketImplementation
	rate  int
}

func (i wsImplementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := i.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	sess := sessionFrom(r.Context())
	if sess == nil {
		return nil, errors.New("websocket without a session")
	}
	c := &wsConn{innerConn: innerConn{conn}, sess: sess}
	if i.rate > 0 {
		c.bucket = newBucket(float64(i.rate), float64(2*i.rate), time.Now)
	}
	return c, nil
}

// wsConn is gqlgen's view of one socket. It counts what the client sends against the message rate, writes
// nothing once its session has ended (so no event reaches a session after the change that ended it), and closes
// with the session's code instead of the one gqlgen picks (gqlgen closes a cancelled connection with 1000).
type wsConn struct {
	innerConn
	sess   *session
	bucket *bucket // nil: no rate cap
}

var (
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
)

var errSessionEnded = errors.New("websocket session ended")

func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return typ, r, err
	}
	if c.bucket != nil && !c.bucket.take() {
		c.sess.end(closePolicyViolation, "too many messages")
		return typ, nil, errors.New("websocket: too many messages")
	}
	return typ, r, nil
}

func (c *wsConn) WriteJSON(v any) error {
	if !c.sess.live() {
		return errSessionEnded
	}
	return c.WebsocketConn.WriteJSON(v)
}

func (c *wsConn) WriteClose(code int, message string) error {
	if own, reason, ended := c.sess.closeCode(); ended {
		code, message = own, reason
	}
	return c.WebsocketConn.WriteClose(code, message)
}

// innerConn is the connection a wrapper wraps, with gqlgen's optional interfaces passed on: without them
// PayloadReadLimit and the ping deadline would silently not apply through a wrapper.
type innerConn struct{ transport.WebsocketConn }

func (c innerConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c innerConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// bucket is a token bucket: rate tokens a second, at most burst saved. One socket's reads take from it, one at a
// time (gqlgen reads a socket from one goroutine), so it needs no lock.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
	now                 func() time.Time
}

func newBucket(rate, burst float64, now func() time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now(), now: now}
}

func (b *bucket) take() bool {
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// serveWebSocket runs one WebSocket upgrade through the caps and its session's life.
func serveWebSocket(w http.ResponseWriter, r *http.Request, caps *wsCaps, broker *Broker, next http.Handler) {
	sess := newSession(caps.opts.MaxSubscriptions)
	release, ok := caps.acquire(w, clientip.Key(clientip.FromContext(r.Context())), sess)
	if !ok {
		return
	}
	defer release()
	sess.seen = broker.changes()
	defer func() {
		broker.forget(sess)
		sess.end(transport.WebsocketCloseNormalClosure, "")
	}()
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
}

// initSocket is the WebSocket init function: it authenticates the token in connection_init's payload
// ({"Authorization": "Bearer ..."}: browsers cannot set headers on a WebSocket), binds the session to it, and
// acknowledges with no payload, so the client's token is never echoed back.
func initSocket(signIn *authn.Authenticator, broker *Broker) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		sess := sessionFrom(ctx)
		if sess == nil {
			return ctx, nil, errors.New("websocket without a session")
		}
		ctx, cancel := context.WithCancel(ctx)
		actor, signedIn := service.ActorFromContext(ctx) // from the upgrade request's Authorization header
		if header := p.Authorization(); header != "" {
			a, ok, err := signIn.Authorization(ctx, header, authn.Optional)
			if err != nil {
				cancel()
				if service.ErrorCode(err) == service.EUNAVAILABLE {
					// The session may be good; the database is not answering.
					return transport.WithWebsocketCloseCode(ctx, closeTryAgainLater), nil, errors.New(codes[service.EUNAVAILABLE])
				}
				return transport.WithWebsocketCloseCode(ctx, closeUnauthorized), nil, errors.New("invalid token")
			}
			actor, signedIn = a, ok
		}
		sess.setCancel(cancel)
		if !signedIn {
			return ctx, nil, nil
		}
		sess.signIn(actor)
		broker.track(ctx, sess)
		return service.NewContextWithActor(ctx, actor), nil, nil
	}
}
