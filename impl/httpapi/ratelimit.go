package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"github.com/junction-dev/junction/impl/config"
)

// Operations with limits of their own; every other operation has the default, except the probes, which have none.
var (
	limitedOps = map[string]func(config.RateLimitConfig) int{
		"listUsers":   func(c config.RateLimitConfig) int { return c.ListUsers },
		"createUser":  func(c config.RateLimitConfig) int { return c.SignUp },
		"createToken": func(c config.RateLimitConfig) int { return c.Login },
		// Each reset request sends an email: limit it like a sign-in.
		"requestPasswordReset": func(c config.RateLimitConfig) int { return c.Login },
		"confirmPasswordReset": func(c config.RateLimitConfig) int { return c.Login },
	}
	// Probes must always answer; webhook senders are authenticated by signature and come in bursts.
	unlimitedOps = map[string]bool{"getHealth": true, "getReadiness": true, "receiveStripeWebhook": true}
)

// rateLimits holds one sliding-window limiter per limited operation, keyed by client IP.
type rateLimits struct {
	window   time.Duration
	byOp     map[string]*httprate.RateLimiter
	fallback *httprate.RateLimiter
	trusted  []netip.Prefix
	now      func() time.Time
}

func newRateLimits(cfg config.RateLimitConfig) *rateLimits {
	newLimiter := func(n int) *httprate.RateLimiter {
		if n <= 0 {
			return nil
		}
		// Reset and Retry-After are set here as seconds from now; httprate would send an epoch time.
		return httprate.NewRateLimiter(n, cfg.Window, httprate.WithResponseHeaders(httprate.ResponseHeaders{
			Limit: "RateLimit-Limit", Remaining: "RateLimit-Remaining",
		}))
	}
	rl := &rateLimits{
		window: cfg.Window, byOp: map[string]*httprate.RateLimiter{}, fallback: newLimiter(cfg.Default),
		trusted: cfg.TrustedProxies, now: time.Now,
	}
	for op, limit := range limitedOps {
		rl.byOp[op] = newLimiter(limit(cfg))
	}
	return rl
}

// allow counts the request against its operation's limit and sets the RateLimit headers. Over the limit, it
// answers 429 with Retry-After and returns false.
func (rl *rateLimits) allow(w http.ResponseWriter, r *http.Request, op string, errs errorWriter) bool {
	if unlimitedOps[op] {
		return true
	}
	limiter, ok := rl.byOp[op]
	if !ok {
		limiter = rl.fallback
	}
	if limiter == nil {
		return true
	}
	limited := limiter.OnLimit(w, r, clientIP(r, rl.trusted).String())
	reset := strconv.Itoa(rl.secondsToReset())
	w.Header().Set("RateLimit-Reset", reset)
	if limited {
		w.Header().Set("Retry-After", reset)
		errs.write(w, r, http.StatusTooManyRequests, "Too many requests: retry after "+reset+" seconds.", nil)
		return false
	}
	return true
}

// secondsToReset is the time left in the current window, rounded up: httprate's windows are aligned to
// multiples of the window length.
func (rl *rateLimits) secondsToReset() int {
	now := rl.now()
	left := now.Truncate(rl.window).Add(rl.window).Sub(now)
	return int((left + time.Second - 1) / time.Second)
}

// clientIP is the IP a request came from. X-Forwarded-For is believed only as far as it was written by trusted
// proxies: walking it from the right, the first address that is not a trusted proxy is the client.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	remote = remote.Unmap()
	if !isTrusted(remote, trusted) {
		return remote
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := remote
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing beyond it
		}
		client = addr.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
