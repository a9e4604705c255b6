package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
)

// wsClient speaks graphql-transport-ws to one instance.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, in *instance, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.url, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	c := &wsClient{t: t, conn: conn}
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	require.Equal(t, "connection_ack", c.read(5 * time.Second)["type"])
	return c
}

func (c *wsClient) send(msg map[string]any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(c.t, wsjson.Write(ctx, c.conn, msg))
}

// read returns the next message that is not a keep-alive, or nil after timeout.
func (c *wsClient) read(timeout time.Duration) map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var msg map[string]any
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			return nil
		}
		if msg["type"] == "ping" || msg["type"] == "pong" || msg["type"] == "ka" {
			continue
		}
		return msg
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
	time.Sleep(200 * time.Millisecond) // let the server register the subscriber before events are sent
}

// restPost creates a post through instance in's REST API.
func restPost(t *testing.T, in *instance, token, title string, published bool) string {
	t.Helper()
	body := fmt.Sprintf(`{"title":%q,"content":"C","published":%v}`, title, published)
	req, _ := http.NewRequest(http.MethodPost, in.url+"/api/posts", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var out struct{ Data struct{ ID string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Data.ID
}

// TestSubscriptionsAcrossInstances: a post created through the REST API of instance A reaches a WebSocket
// subscriber on instance B; drafts are not broadcast; comments reach the subscribers of their post.
func TestSubscriptionsAcrossInstances(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	a, b := newInstance(t, dbURL), newInstance(t, dbURL)
	_, token := a.signUp(t, "Ada", "ada@example.com")

	sub := dialWS(t, b, token)
	sub.subscribe("posts", `subscription { postCreated { title published author { name } } }`)

	restPost(t, a, token, "A draft", false)
	restPost(t, a, token, "Hello from A", true)
	msg := sub.read(10 * time.Second)
	require.NotNil(t, msg, "no event reached instance B")
	require.Equal(t, "next", msg["type"], "%v", msg)
	require.Equal(t, "posts", msg["id"])
	post := get(msg, "payload", "data", "postCreated").(map[string]any)
	require.Equal(t, "Hello from A", post["title"], "the draft was not broadcast; the published post was")
	require.Equal(t, "Ada", get(post, "author", "name"))

	// Publishing a draft later broadcasts it then.
	draft := restPost(t, a, token, "Published later", false)
	a.ok(t, token, `mutation($id: ID!) { publishPost(id: $id) { id } }`, map[string]any{"id": draft})
	msg = sub.read(10 * time.Second)
	require.Equal(t, "Published later", get(msg, "payload", "data", "postCreated", "title"))

	// Comments, subscribed anonymously on B, added through GraphQL on A.
	anon := dialWS(t, b, "")
	postID := restPost(t, a, token, "Discuss", true)
	other := restPost(t, a, token, "Elsewhere", true)
	anon.subscribe("comments", fmt.Sprintf(`subscription { commentAdded(postId: %q) { content post { title } } }`, postID))
	a.ok(t, token, `mutation($p: ID!) { createComment(input: {postId: $p, content: "not this one"}) { id } }`, map[string]any{"p": other})
	a.ok(t, token, `mutation($p: ID!) { createComment(input: {postId: $p, content: "first!"}) { id } }`, map[string]any{"p": postID})
	msg = anon.read(10 * time.Second)
	require.Equal(t, "first!", get(msg, "payload", "data", "commentAdded", "content"))
	require.Equal(t, "Discuss", get(msg, "payload", "data", "commentAdded", "post", "title"))

	// A bad token at connection_init is refused.
	conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(b.url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	bad := &wsClient{t: t, conn: conn}
	bad.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer junk"}})
	reply := bad.read(5 * time.Second)
	require.NotEqual(t, "connection_ack", reply["type"])
}

// TestLegacyGraphQLWSProtocol: clients of the older subscriptions-transport-ws protocol are served too.
func TestLegacyGraphQLWSProtocol(t *testing.T) {
	t.Parallel()
	in := setup(t)
	_, token := in.signUp(t, "Ada", "ada@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	require.NoError(t, err)
	defer conn.Close(websocket.StatusNormalClosure, "")
	require.Equal(t, "graphql-ws", conn.Subprotocol())
	c := &wsClient{t: t, conn: conn}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	require.Equal(t, "connection_ack", c.read(5 * time.Second)["type"])
	c.send(map[string]any{"id": "1", "type": "start", "payload": map[string]any{"query": `subscription { postCreated { title } }`}})
	time.Sleep(200 * time.Millisecond)
	restPost(t, in, token, "Old protocol", true)
	msg := c.read(10 * time.Second)
	require.Equal(t, "data", msg["type"], "%v", msg)
	require.Equal(t, "Old protocol", get(msg, "payload", "data", "postCreated", "title"))
}
