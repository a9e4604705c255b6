package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/service"
)

// TestWSConnChecksTheSessionBeforeEachWrite: over a real WebSocket, a socket whose token has expired writes
// nothing, even before its expiry timer fired (the check before each delivery), and closes with 4401 whatever
// code gqlgen asks for.
func TestWSConnChecksTheSessionBeforeEachWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		session func() *session
		want    websocket.StatusCode
		written bool
	}{
		{name: "live", want: websocket.StatusNormalClosure, written: true, session: func() *session {
			s := newSession(0)
			s.signIn(service.Actor{TokenExpiresAt: time.Now().Add(time.Hour)})
			return s
		}},
		{name: "expired, timer not fired yet", want: closeUnauthorized, session: func() *session {
			s := newSession(0)
			s.actor, s.signedIn = service.Actor{TokenExpiresAt: time.Now().Add(-time.Second)}, true // no timer armed
			return s
		}},
		{name: "ended by a role change", want: closeForbidden, session: func() *session {
			s := newSession(0)
			s.end(closeForbidden, "role changed")
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			writeErr := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, tt.session()))
				conn, err := wsImplementation{inner: transport.CoderWebsocketImplementation{}}.Accept(w, r, transport.WebsocketAcceptOptions{})
				if err != nil {
					writeErr <- err
					return
				}
				writeErr <- conn.WriteJSON(map[string]any{"type": "next", "id": "1"})
				_ = conn.WriteClose(transport.WebsocketCloseNormalClosure, "terminated") // what gqlgen sends on cancel
				time.Sleep(100 * time.Millisecond)
				_ = conn.Close()
			}))
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			require.NoError(t, err)
			defer c.CloseNow()
			_, data, err := c.Read(ctx)
			if tt.written {
				require.NoError(t, err)
				require.JSONEq(t, `{"type":"next","id":"1"}`, string(data))
				_, _, err = c.Read(ctx)
				require.NoError(t, <-writeErr)
			} else {
				require.ErrorIs(t, <-writeErr, errSessionEnded)
			}
			require.Equal(t, tt.want, websocket.CloseStatus(err), "%v", err)
		})
	}
}

func TestBucket(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	b := newBucket(2, 4, func() time.Time { return now })
	for i := range 4 {
		require.True(t, b.take(), "burst %d", i)
	}
	require.False(t, b.take(), "the burst is spent")
	now = now.Add(500 * time.Millisecond)
	require.True(t, b.take(), "a token a half second at 2/s")
	require.False(t, b.take())
	now = now.Add(time.Hour)
	for range 4 {
		require.True(t, b.take())
	}
	require.False(t, b.take(), "idle time saves no more than the burst")
}
