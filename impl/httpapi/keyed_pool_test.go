package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/postgres"
)

// TestKeyedWritesDoNotWaitForEachOther: a keyed request holds its connection from its first write to its
// answer's store, so it must read nothing from the pool after that write: as many keyed writes at once as the
// pool has connections would each hold one and wait for a second, for ever. Each keyed kind, 4 at once on a pool
// of 2.
func TestKeyedWritesDoNotWaitForEachOther(t *testing.T) {
	t.Parallel()
	const n = 4
	cases := []struct {
		name   string
		status int
		// prepare makes what the i-th request needs and returns its method, path and body.
		prepare func(b *testBundle, token string) func(i int) (string, string, string)
	}{
		{"re-send a failed delivery", http.StatusAccepted, func(b *testBundle, token string) func(int) (string, string, string) {
			endpoint := b.idOf(b.doJSON(http.MethodPost, "/api/webhook-endpoints", `{"url":"`+hookURL+`","eventTypes":["post.published"]}`, withToken(token)...))
			deliveries := make([]string, n)
			for i := range deliveries {
				deliveries[i] = b.idOf(b.doJSON(http.MethodPost, "/api/webhook-endpoints/"+endpoint+"/test", "", withToken(token)...))
			}
			_, err := b.pool.Exec(context.Background(), "UPDATE webhook_deliveries SET status = 'failed'")
			require.NoError(b.t, err)
			return func(i int) (string, string, string) {
				return http.MethodPost, "/api/webhook-endpoints/" + endpoint + "/deliveries/" + deliveries[i] + "/retry", ""
			}
		}},
		{"create a post", http.StatusCreated, func(*testBundle, string) func(int) (string, string, string) {
			return func(int) (string, string, string) {
				return http.MethodPost, "/api/posts", `{"title":"T","content":"C"}`
			}
		}},
		{"publish a post", http.StatusOK, func(b *testBundle, token string) func(int) (string, string, string) {
			posts := make([]string, n)
			for i := range posts {
				posts[i] = b.createPost(token, fmt.Sprint("Draft ", i), false).Id.String()
			}
			return func(i int) (string, string, string) {
				return http.MethodPost, "/api/posts/" + posts[i] + "/publish", ""
			}
		}},
		{"comment", http.StatusCreated, func(b *testBundle, token string) func(int) (string, string, string) {
			post := b.createPost(token, "Open", true).Id.String()
			return func(int) (string, string, string) {
				return http.MethodPost, "/api/posts/" + post + "/comments", `{"content":"Hi."}`
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := pgxpool.ParseConfig(dbtest.NewURL(t))
			require.NoError(t, err)
			cfg.MaxConns = 2
			cfg.AfterConnect = postgres.AfterConnect
			pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			b := setup(t, setupOptions{pool: pool})
			_, token := b.signUp("Ada", "ada@example.com")
			request := c.prepare(b, token)

			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			statuses := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					method, path, body := request(i)
					req, err := http.NewRequestWithContext(ctx, method, b.url+path, strings.NewReader(body))
					if err != nil {
						return
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Idempotency-Key", fmt.Sprintf("key-%d", i))
					resp, err := b.http.Do(req)
					if err != nil {
						return // the deadline: the requests waited for each other
					}
					defer resp.Body.Close()
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			for i, s := range statuses {
				require.Equal(t, c.status, s, "request %d", i)
			}
		})
	}
}

// idOf is the data.id of a created resource's answer.
func (b *testBundle) idOf(r response) string {
	b.t.Helper()
	require.Less(b.t, r.status, 300, string(r.body))
	var v struct{ Data struct{ ID string } }
	require.NoError(b.t, json.Unmarshal(r.body, &v))
	return v.Data.ID
}
