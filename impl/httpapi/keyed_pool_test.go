package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/postgres"
)

// TestKeyedRetriesDoNotWaitForEachOther: a keyed request holds its connection from its first write to its
// answer's store, so it must read nothing from the pool after that write: as many keyed re-sends of failed
// deliveries at once as the pool has connections would each hold one and wait for a second, for ever.
func TestKeyedRetriesDoNotWaitForEachOther(t *testing.T) {
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
	created := b.doJSON(http.MethodPost, "/api/webhook-endpoints", `{"url":"`+hookURL+`","eventTypes":["post.published"]}`, withToken(token)...)
	require.Equal(t, http.StatusCreated, created.status, string(created.body))
	var e struct{ Data struct{ ID string } }
	require.NoError(t, json.Unmarshal(created.body, &e))
	const n = 4
	deliveries := make([]string, n)
	for i := range deliveries {
		test := b.doJSON(http.MethodPost, "/api/webhook-endpoints/"+e.Data.ID+"/test", "", withToken(token)...)
		require.Equal(t, http.StatusAccepted, test.status, string(test.body))
		var d struct{ Data struct{ ID string } }
		require.NoError(t, json.Unmarshal(test.body, &d))
		deliveries[i] = d.Data.ID
	}
	_, err = pool.Exec(context.Background(), "UPDATE webhook_deliveries SET status = 'failed'")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i, id := range deliveries {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/api/webhook-endpoints/"+e.Data.ID+"/deliveries/"+id+"/retry", http.NoBody)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("retry-%d", i))
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
		require.Equal(t, http.StatusAccepted, s, "delivery %d", i)
	}
}
