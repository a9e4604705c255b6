package httpapi_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/config"
)

func TestRateLimits(t *testing.T) {
	t.Parallel()
	limits := config.RateLimitConfig{Window: time.Hour, Default: 4, ListUsers: 3, SignUp: 2, Login: 2}
	b := setup(t, setupOptions{rateLimit: &limits})

	signUp := func(i int) response {
		return b.doJSON(http.MethodPost, "/api/users", fmt.Sprintf(`{"name":"U%d","email":"u%d@example.com","password":"long enough"}`, i, i))
	}
	login := func() response {
		return b.doJSON(http.MethodPost, "/api/auth/token", `{"email":"u0@example.com","password":"long enough"}`)
	}
	var token string
	tests := []struct {
		name     string
		limit    int
		policies []string
		call     func(i int) response
	}{
		{"sign up", 2, []string{"signup"}, signUp},
		{"sign in", 2, []string{"login", "login-account"}, func(int) response {
			r := login()
			if r.status == http.StatusOK {
				token = "set" // only to show a login went through
			}
			return r
		}},
		{"default limit (list posts)", 4, []string{"default"}, func(int) response { return b.do(http.MethodGet, "/api/posts", "", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An account's quota is five times a client's.
			quota := func(p string) int {
				if strings.HasSuffix(p, "-account") {
					return 5 * tt.limit
				}
				return tt.limit
			}
			var policy, state []string
			for _, p := range tt.policies {
				policy = append(policy, fmt.Sprintf("%q;q=%d;w=3600", p, quota(p)))
			}
			for i := range tt.limit {
				r := tt.call(i)
				require.Less(t, r.status, 300, "request %d: %s", i+1, r.body)
				require.Equal(t, strings.Join(policy, ", "), r.header.Get("RateLimit-Policy"))
				state = state[:0]
				for _, p := range tt.policies {
					// GCRA: all of the quota is back 1800 s after each of 2 requests an hour, 900 s for 4.
					state = append(state, fmt.Sprintf("%q;r=%d;t=%d", p, quota(p)-i-1, (i+1)*3600/quota(p)))
				}
				require.Equal(t, strings.Join(state, ", "), r.header.Get("RateLimit"))
			}
			r := tt.call(tt.limit)
			require.Equal(t, http.StatusTooManyRequests, r.status, string(r.body))
			require.Contains(t, r.header.Get("RateLimit"), fmt.Sprintf("%q;r=0;", tt.policies[0]))
			retry, err := strconv.Atoi(r.header.Get("Retry-After"))
			require.NoError(t, err)
			require.InDelta(t, 3600/tt.limit, retry, 1, "one request's share of the window")
			require.Contains(t, *r.envelope(t).Message, "Too many requests")
		})
	}
	require.NotEmpty(t, token)

	// Probes are never limited.
	for range 10 {
		require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/healthz", "", "").status)
	}
}

func TestRateLimitsByClientIP(t *testing.T) {
	t.Parallel()
	post := func(b *testBundle, forwardedFor string) int {
		return b.do(http.MethodGet, "/api/posts", "", "", "X-Forwarded-For", forwardedFor).status
	}

	// Without trusted proxies X-Forwarded-For is ignored: every request is the test's own loopback address.
	untrusted := setup(t, setupOptions{rateLimit: &config.RateLimitConfig{Window: time.Hour, Default: 2}})
	require.Equal(t, http.StatusOK, post(untrusted, "203.0.113.1"))
	require.Equal(t, http.StatusOK, post(untrusted, "203.0.113.2"))
	require.Equal(t, http.StatusTooManyRequests, post(untrusted, "203.0.113.3"), "a client cannot dodge the limit by forging the header")

	// Behind a trusted proxy (the loopback address), each forwarded client has its own budget.
	trusted := setup(t, setupOptions{rateLimit: &config.RateLimitConfig{
		Window: time.Hour, Default: 2, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}})
	for range 2 {
		require.Equal(t, http.StatusOK, post(trusted, "203.0.113.1"))
	}
	require.Equal(t, http.StatusTooManyRequests, post(trusted, "203.0.113.1"))
	require.Equal(t, http.StatusOK, post(trusted, "203.0.113.2"))
	// The client is the rightmost untrusted hop: what a client prepends itself does not count.
	require.Equal(t, http.StatusTooManyRequests, post(trusted, "198.51.100.9, 203.0.113.1"))
}
