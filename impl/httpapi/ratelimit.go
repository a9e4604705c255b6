package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/httprate"

	"github.com/junction-dev/junction/impl/clientip"
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
		now: time.Now,
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
	limited := limiter.OnLimit(w, r, clientip.Key(clientip.FromContext(r.Context())))
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
