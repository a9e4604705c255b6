package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/graph"
)

// protocols are the two subprotocols served, with the names of their client messages.
var protocols = []struct {
	name, subscribe, complete string
	next                      string // the server's message for a result
}{
	{name: "graphql-transport-ws", subscribe: "subscribe", complete: "complete", next: "next"},
	{name: "graphql-ws", subscribe: "start", complete: "stop", next: "data"},
}

// dialOpts configure dialProto.
type dialOpts struct {
	protocol string
	token    string      // sent in connection_init's payload
	header   http.Header // sent with the upgrade request
}

// dial opens a socket without connection_init; it returns the HTTP answer when the upgrade is refused.
func dial(t *testing.T, in *instance, o dialOpts) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.url, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{cmpOr(o.protocol, "graphql-transport-ws")}, HTTPHeader: o.header,
	})
	if err == nil {
		t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	}
	return conn, resp, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dialProto opens a socket with o's subprotocol and completes connection_init.
func dialProto(t *testing.T, in *instance, o dialOpts) *wsClient {
	t.Helper()
	conn, _, err := dial(t, in, o)
	require.NoError(t, err)
	c := &wsClient{t: t, conn: conn}
	payload := map[string]any{}
	if o.token != "" {
		payload["Authorization"] = "Bearer " + o.token
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	require.Equal(t, "connection_ack", c.read(5 * time.Second)["type"])
	return c
}

// readUntilClose reads every message until the server closes the socket (or timeout passes: status -1).
func (c *wsClient) readUntilClose(timeout time.Duration) ([]map[string]any, websocket.StatusCode) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var msgs []map[string]any
	for {
		var msg map[string]any
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			return msgs, websocket.CloseStatus(err)
		}
		if msg["type"] != "ka" && msg["type"] != "ping" && msg["type"] != "pong" {
			msgs = append(msgs, msg)
		}
	}
}

// feed reads a socket's messages in the background, so that waiting for one with a timeout does not close the
// socket (as a Read whose context ends does).
type feed struct{ msgs chan map[string]any }

func (c *wsClient) feed() *feed {
	f := &feed{msgs: make(chan map[string]any, 100)}
	go func() {
		defer close(f.msgs)
		for {
			var msg map[string]any
			if err := wsjson.Read(context.Background(), c.conn, &msg); err != nil {
				return
			}
			if msg["type"] != "ka" && msg["type"] != "ping" && msg["type"] != "pong" {
				f.msgs <- msg
			}
		}
	}()
	return f
}

// next returns the next message, or nil after timeout.
func (f *feed) next(timeout time.Duration) map[string]any {
	select {
	case msg := <-f.msgs:
		return msg
	case <-time.After(timeout):
		return nil
	}
}

// refusal decodes a refused upgrade's body, GraphQL's JSON error shape.
func refusal(t *testing.T, resp *http.Response) gqlResponse {
	t.Helper()
	require.NotNil(t, resp)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	var out gqlResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	out.status = resp.StatusCode
	return out
}

// TestWebSocketFloodBesideREST: more sockets than MAX_CONCURRENT_REQUESTS, all from one client, hold no request
// slot (REST and GraphQL over HTTP still answer 200); the client's sockets beyond the per-IP cap are refused 429
// before the upgrade, while another client still connects; beyond the total cap anyone is refused 503.
func TestWebSocketFloodBesideREST(t *testing.T) {
	t.Parallel()
	const maxConcurrent, perIP, total = 4, 10, 13
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{
		maxConcurrent: maxConcurrent, trustLoopback: true,
		webSocket: graph.WebSocketOptions{MaxConnections: total, MaxConnectionsPerIP: perIP},
	})
	_, token := in.signUp(t, "Ada", "ada@example.com")
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

	var socks []*wsClient
	for i := range perIP { // two and a half times the request slots, half of them anonymous, all subscribed
		o := dialOpts{protocol: protocols[i%2].name, header: from("198.51.100.7")}
		if i%2 == 0 {
			o.token = token
		}
		c := dialProto(t, in, o)
		c.send(map[string]any{"id": "p", "type": protocols[i%2].subscribe, "payload": map[string]any{"query": `subscription { postCreated { title } }`}})
		socks = append(socks, c)
	}
	time.Sleep(200 * time.Millisecond)

	for range 3 * maxConcurrent {
		resp, err := http.Get(in.url + "/api/posts")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "REST beside the sockets")
		r := in.do(t, token, `{ posts(limit: 1) { totalCount } }`, nil)
		require.Equal(t, http.StatusOK, r.status, "GraphQL over HTTP beside the sockets")
		require.Empty(t, r.Errors)
	}

	_, resp, err := dial(t, in, dialOpts{header: from("198.51.100.7")})
	require.Error(t, err, "one socket over the per-IP cap")
	r := refusal(t, resp)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "RATE_LIMITED", r.code())
	require.Contains(t, r.Errors[0].Message, fmt.Sprint(perIP))

	// Another client is not held to the first one's cap, only to the total.
	for range total - perIP {
		dialProto(t, in, dialOpts{header: from("203.0.113.9")})
	}
	_, resp, err = dial(t, in, dialOpts{header: from("192.0.2.1")})
	require.Error(t, err, "one socket over the total cap")
	r = refusal(t, resp)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "SERVICE_UNAVAILABLE", r.code())

	// A socket that closes gives its place back; the others still receive events.
	require.NoError(t, socks[0].conn.Close(websocket.StatusNormalClosure, ""))
	require.Eventually(t, func() bool {
		conn, _, err := dial(t, in, dialOpts{header: from("198.51.100.7")})
		if err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
		return err == nil
	}, 5*time.Second, 50*time.Millisecond)
	restPost(t, in, token, "Still live", true)
	for i, c := range socks[1:] {
		msg := c.read(10 * time.Second)
		require.Equal(t, "Still live", get(msg, "payload", "data", "postCreated", "title"), "socket %d", i+1)
	}
}

// TestWebSocketSubscriptionCap: a socket has at most WS_MAX_SUBSCRIPTIONS subscriptions; one more gets an error
// message for its id, while the socket and its subscriptions carry on, and completing one frees its slot.
func TestWebSocketSubscriptionCap(t *testing.T) {
	t.Parallel()
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{webSocket: graph.WebSocketOptions{MaxSubscriptions: 2}})
	_, token := in.signUp(t, "Ada", "ada@example.com")
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := dialProto(t, in, dialOpts{protocol: p.name, token: token})
			f := c.feed()
			sub := func(id string) {
				c.send(map[string]any{"id": id, "type": p.subscribe, "payload": map[string]any{"query": `subscription { postCreated { title } }`}})
			}
			sub("1")
			sub("2")
			time.Sleep(200 * time.Millisecond) // subscriptions start concurrently: let these two take the slots
			sub("3")
			msg := f.next(5 * time.Second)
			require.Equal(t, "error", msg["type"], "%v", msg)
			require.Equal(t, "3", msg["id"])
			require.Contains(t, fmt.Sprint(msg["payload"]), "TOO_MANY_SUBSCRIPTIONS")

			title := "Two of three " + p.name
			restPost(t, in, token, title, true)
			got := map[any]bool{}
			for range 2 {
				msg := f.next(10 * time.Second)
				require.Equal(t, p.next, msg["type"], "%v", msg)
				require.Equal(t, title, get(msg, "payload", "data", "postCreated", "title"))
				got[msg["id"]] = true
			}
			require.Equal(t, map[any]bool{"1": true, "2": true}, got)

			c.send(map[string]any{"id": "1", "type": p.complete})
			// The slot comes back as the subscription winds down, a moment after: try until one is accepted.
			accepted := ""
			for i := range 20 {
				id := fmt.Sprint("next-", i)
				sub(id)
				msg := f.next(time.Second)
				for msg != nil && msg["type"] == "complete" { // the server's answer to completing "1"
					msg = f.next(time.Second)
				}
				if msg == nil {
					accepted = id // no error, no event yet
					break
				}
				require.Equal(t, "error", msg["type"], "%v", msg)
				require.Equal(t, id, msg["id"])
			}
			require.NotEmpty(t, accepted, "a completed subscription frees its slot")
			title = "Freed slot " + p.name
			restPost(t, in, token, title, true)
			got = map[any]bool{}
			for range 2 {
				msg := f.next(10 * time.Second)
				require.Equal(t, p.next, msg["type"], "%v", msg)
				require.Equal(t, title, get(msg, "payload", "data", "postCreated", "title"), "%v", msg)
				got[msg["id"]] = true
			}
			require.Equal(t, map[any]bool{"2": true, accepted: true}, got, "the new one and the old one; not the completed one")
		})
	}
}

// TestWebSocketMessageRate: a socket that sends faster than WS_MESSAGE_RATE (past its burst) is closed with
// 1008 Policy Violation; one that keeps within it stays open.
func TestWebSocketMessageRate(t *testing.T) {
	t.Parallel()
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{webSocket: graph.WebSocketOptions{MessageRate: 5}})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			// Completing an unknown id is a valid message in both protocols, and costs the server nothing.
			noop := map[string]any{"id": "none", "type": p.complete}

			calm := dialProto(t, in, dialOpts{protocol: p.name})
			for range 9 { // with connection_init, within the burst (twice the rate); then at the rate
				calm.send(noop)
			}
			for range 5 {
				time.Sleep(300 * time.Millisecond)
				calm.send(noop)
			}
			_, status := calm.readUntilClose(500 * time.Millisecond)
			require.Equal(t, websocket.StatusCode(-1), status, "a socket within the rate stays open")

			flood := dialProto(t, in, dialOpts{protocol: p.name})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for range 50 {
				if wsjson.Write(ctx, flood.conn, noop) != nil {
					break // closed already
				}
			}
			_, status = flood.readUntilClose(5 * time.Second)
			require.Equal(t, websocket.StatusPolicyViolation, status)
		})
	}
}

// TestWebSocketAckHasNoPayload: connection_ack carries no payload, so the token sent in connection_init never
// comes back.
func TestWebSocketAckHasNoPayload(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			conn, _, err := dial(t, in, dialOpts{protocol: p.name})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init",
				"payload": map[string]any{"Authorization": "Bearer " + token, "extra": "echo me"}}))
			_, raw, err := conn.Read(ctx)
			require.NoError(t, err)
			require.JSONEq(t, `{"type":"connection_ack"}`, string(raw))
		})
	}
}

// TestWebSocketSessionEnds: a signed-in socket is closed with 4401 when its token expires, its user is deleted or
// its password is reset, and with 4403 when its role changes; a post written right after the change never reaches
// it. The token may come in connection_init or in the upgrade's Authorization header.
func TestWebSocketSessionEnds(t *testing.T) {
	t.Parallel()
	const ttl = 4 * time.Second
	tests := []struct {
		name     string
		inHeader bool
		change   func(t *testing.T, in *instance, id, email, token string)
		want     websocket.StatusCode
	}{
		{name: "token expired", want: 4401, change: func(t *testing.T, _ *instance, _, _, _ string) {
			// The change is time passing: the post below is written at the token's expiry (whole seconds).
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(ttl + 100*time.Millisecond)))
		}},
		{name: "user deleted", want: 4401, change: func(t *testing.T, in *instance, id, _, token string) {
			req, _ := http.NewRequest(http.MethodDelete, in.url+"/api/users/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
		}},
		{name: "user deleted, token in the header", inHeader: true, want: 4401, change: func(t *testing.T, in *instance, id, _, _ string) {
			_, err := in.pool.Exec(context.Background(), "DELETE FROM users WHERE id = $1", id) // an operator's SQL
			require.NoError(t, err)
		}},
		{name: "password reset", want: 4401, change: func(t *testing.T, in *instance, _, email, _ string) {
			confirmReset(t, in, email)
		}},
		{name: "role changed", want: 4403, change: func(t *testing.T, in *instance, _, email, _ string) {
			require.NoError(t, in.svc.Accounts.GrantAdmin(context.Background(), email))
		}},
	}
	for _, tt := range tests {
		for _, p := range protocols {
			t.Run(tt.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				// Ada subscribes on an instance whose tokens last ttl; Bob writes through another, whose last an
				// hour, on the same database (events cross instances as in production).
				dbURL := dbtest.NewURL(t)
				in := newInstanceWith(t, dbURL, instanceOptions{tokenTTL: ttl})
				writes := newInstance(t, dbURL)
				id, token := in.signUp(t, "Ada", "ada@example.com")
				_, writer := writes.signUp(t, "Bob", "bob@example.com")
				o := dialOpts{protocol: p.name, token: token}
				if tt.inHeader {
					o = dialOpts{protocol: p.name, header: http.Header{"Authorization": {"Bearer " + token}}}
				}
				c := dialProto(t, in, o)
				c.send(map[string]any{"id": "p", "type": p.subscribe,
					"payload": map[string]any{"query": `subscription { postCreated { title author { email } } }`}})
				time.Sleep(200 * time.Millisecond)
				restPost(t, writes, writer, "Before", true)
				msg := c.read(10 * time.Second)
				require.Equal(t, "Before", get(msg, "payload", "data", "postCreated", "title"), "%v", msg)
				require.Equal(t, "bob@example.com", get(msg, "payload", "data", "postCreated", "author", "email"))

				tt.change(t, in, id, "ada@example.com", token)
				restPost(t, writes, writer, "After", true)

				msgs, status := c.readUntilClose(10 * time.Second)
				require.Equal(t, tt.want, status, "messages: %v", msgs)
				for _, m := range msgs {
					require.NotEqual(t, p.next, m["type"], "nothing is delivered after the change: %v", m)
				}
			})
		}
	}
}

// confirmReset resets email's password through the REST API, with the token the reset email would carry, in a
// later second than the sessions it ends were opened (tokens carry whole seconds).
func confirmReset(t *testing.T, in *instance, email string) {
	t.Helper()
	resp, err := http.Post(in.url+"/api/auth/password-reset", "application/json", strings.NewReader(`{"email":"`+email+`"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	// The request only queues a job, which this instance does not work: do its work here.
	require.NoError(t, in.svc.Accounts.SendPasswordReset(context.Background(), email))
	var sealed string
	require.NoError(t, in.pool.QueryRow(context.Background(),
		`SELECT args->>'sealed_token' FROM river_job WHERE kind = 'email' AND args->>'to' = $1 AND args ? 'sealed_token'`, email).Scan(&sealed))
	token, err := in.sealer.Open(sealed)
	require.NoError(t, err)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	resp, err = http.Post(in.url+"/api/auth/password-reset/confirm", "application/json",
		strings.NewReader(`{"token":"`+token+`","newPassword":"a new password"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

// TestWebSocketsEndAtShutdown: CloseSockets (what serve calls once the API server has drained) ends every open
// socket with 1001 Going Away, signed in or not, in both subprotocols, and waits until they have closed; a socket
// that arrives after it is refused 503 before the upgrade.
func TestWebSocketsEndAtShutdown(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	var clients []*wsClient
	for _, p := range protocols {
		clients = append(clients, dialProto(t, in, dialOpts{protocol: p.name}), dialProto(t, in, dialOpts{protocol: p.name, token: token}))
	}
	clients[1].send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { postCreated { id } }`}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, in.gql.CloseSockets(ctx))
	for i, c := range clients {
		_, code := c.readUntilClose(5 * time.Second)
		require.Equal(t, websocket.StatusGoingAway, code, "socket %d", i)
	}
	_, resp, err := dial(t, in, dialOpts{})
	require.Error(t, err)
	require.Equal(t, http.StatusServiceUnavailable, refusal(t, resp).status)
}
