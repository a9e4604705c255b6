package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/redistest"
)

// TestRateLimitsSharedThroughRedis: two instances over one database and one Redis (REDIS_URL) share one sign-in
// budget, whichever instance and whichever transport a guess comes through. When Redis dies, each instance goes
// on limiting on its own, from what it counted itself (never unlimited, nobody else refused), and says so once
// in its log and in its metrics; when Redis is back, they share again.
func TestRateLimitsSharedThroughRedis(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	srv := redistest.Start(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": srv.URL(), "RATE_LIMIT_LOGIN": "3", "METRICS_ADDR": "127.0.0.1:0"}
	a, b := startServe(t, vars), startServe(t, vars)
	status, _ := a.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	require.Contains(t, scrape(t, a), "junction_rate_limit_shared 1")

	type guess struct {
		via     *server
		graphql bool
		want    int // 401 for a wrong password, 429 once the budget is spent
	}
	try := func(i int, g guess) {
		t.Helper()
		if g.graphql {
			status, body := g.via.post(t, "/graphql", `{"query":"mutation { login(email: \"ada@example.com\", password: \"wrong\") { accessToken } }"}`)
			require.Equal(t, http.StatusOK, status, "guess %d", i)
			code := "UNAUTHENTICATED"
			if g.want == http.StatusTooManyRequests {
				code = "RATE_LIMITED"
			}
			raw, _ := json.Marshal(body)
			require.Contains(t, string(raw), code, "guess %d", i)
			return
		}
		resp := postRaw(t, g.via, "/api/auth/token", `{"email":"ada@example.com","password":"wrong"}`)
		require.Equal(t, g.want, resp.StatusCode, "guess %d", i)
		if g.want == http.StatusTooManyRequests {
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			require.NoError(t, err)
			require.Positive(t, secs)
			require.Equal(t, `"login";q=3;w=60`, resp.Header.Get("RateLimit-Policy"))
		}
	}
	for i, g := range []guess{
		{a, false, http.StatusUnauthorized}, {b, true, http.StatusUnauthorized}, {a, false, http.StatusUnauthorized},
		{b, false, http.StatusTooManyRequests}, // the fourth guess, on either instance
		{a, true, http.StatusTooManyRequests},
	} {
		try(i, g)
	}

	srv.Stop()
	// Each instance counted its own guesses, refused ones included: a saw three, b two. So a refuses at once and
	// b allows one more; then both refuse, however often they are asked.
	for i, g := range []guess{
		{a, false, http.StatusTooManyRequests}, {b, false, http.StatusUnauthorized},
		{b, false, http.StatusTooManyRequests}, {a, true, http.StatusTooManyRequests}, {b, true, http.StatusTooManyRequests},
	} {
		try(i, g)
	}
	status, _ = b.post(t, "/api/users", `{"name":"Grace","email":"grace@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status, "other actions are not refused")
	for _, s := range []*server{a, b} {
		m := scrape(t, s)
		require.Contains(t, m, "junction_rate_limit_shared 0")
		require.Contains(t, m, "junction_rate_limit_fallbacks_total 1")
		require.Equal(t, 1, strings.Count(s.logs.String(), "Redis does not answer"), "logged once")
	}

	srv.Start() // empty: the restarted server kept nothing
	for _, s := range []*server{a, b} {
		require.Eventually(t, func() bool { return strings.Contains(s.logs.String(), "Redis answers again") }, 20*time.Second, 20*time.Millisecond)
		require.Contains(t, scrape(t, s), "junction_rate_limit_shared 1")
	}
	for i, g := range []guess{
		{b, false, http.StatusUnauthorized}, {a, false, http.StatusUnauthorized}, {b, true, http.StatusUnauthorized},
		{a, false, http.StatusTooManyRequests},
	} {
		try(i, g)
	}
	for _, s := range []*server{a, b} {
		require.Equal(t, 1, strings.Count(s.logs.String(), "Redis does not answer"), "no second fallback after the recovery")
	}
}

// postRaw posts a JSON body to s and returns the response, its body read and closed.
func postRaw(t *testing.T, s *server, path, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(s.base+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// scrape is s's metrics.
func scrape(t *testing.T, s *server) string {
	t.Helper()
	return getBody(t, "http://"+logged(t, s, "metrics server")+"/metrics")
}
