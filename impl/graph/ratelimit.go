package graph

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/junction-dev/junction/impl/ratelimit"
)

// rateLimit implements schema.graphqls' @rateLimit: every root field names its action, and each execution of one
// (each alias, each operation of a batch) is counted by the same [ratelimit.Limits] as REST's, before its resolver
// runs.
func rateLimit(limits *ratelimit.Limits) func(context.Context, any, graphql.Resolver, string, *string) (any, error) {
	return func(ctx context.Context, _ any, next graphql.Resolver, action string, account *string) (any, error) {
		target := ""
		if account != nil {
			target, _ = graphql.GetFieldContext(ctx).Args[*account].(string)
		}
		res, err := limits.Check(ctx, ratelimit.Action(action), target)
		if err != nil {
			return nil, err
		}
		if h, ok := ctx.Value(limitHeadersKey{}).(*limitHeaders); ok {
			h.add(res)
		}
		if err := res.Err(); err != nil {
			return nil, err
		}
		return next(ctx)
	}
}

type limitHeadersKey struct{}

// limitHeaders gathers what the root fields of one HTTP request were counted against, for its RateLimit fields:
// per policy, the decision that left the least. Root fields of a query resolve concurrently, and all of them end
// before the response is written.
type limitHeaders struct {
	mu       sync.Mutex
	header   http.Header
	byPolicy map[string]int
	result   ratelimit.Result
}

// withLimitHeaders makes the rate limits of r's root fields show in w's RateLimit fields.
func withLimitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := &limitHeaders{header: w.Header(), byPolicy: map[string]int{}}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), limitHeadersKey{}, h)))
	})
}

func (h *limitHeaders) add(res ratelimit.Result) {
	if len(res.Decisions) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range res.Decisions {
		i, seen := h.byPolicy[d.Policy.Name]
		switch {
		case !seen:
			h.byPolicy[d.Policy.Name] = len(h.result.Decisions)
			h.result.Decisions = append(h.result.Decisions, d)
		case d.Remaining < h.result.Decisions[i].Remaining || !d.Allowed:
			h.result.Decisions[i] = d
		}
	}
	h.result.SetHeaders(h.header)
	if err, ok := h.result.Err().(*ratelimit.ExceededError); ok {
		h.header.Set("Retry-After", strconv.Itoa(err.RetryAfterSeconds()))
	}
}

// rateLimitedExtensions are a refusal's extensions: its code, and the numbers the RateLimit fields give over HTTP.
func rateLimitedExtensions(e *ratelimit.ExceededError) map[string]any {
	return map[string]any{"code": "RATE_LIMITED", "retryAfter": e.RetryAfterSeconds(), "rateLimit": limitExtensions(e.Result)}
}

// limitExtensions are a refusal's numbers for extensions.rateLimit, as the RateLimit fields give them over HTTP.
func limitExtensions(r ratelimit.Result) []map[string]any {
	out := make([]map[string]any, 0, len(r.Decisions))
	for _, d := range r.Decisions {
		out = append(out, map[string]any{
			"policy": d.Policy.Name, "quota": d.Policy.Quota, "window": int(d.Policy.Window.Seconds()),
			"remaining": d.Remaining, "reset": int((d.Reset + time.Second - 1) / time.Second),
		})
	}
	return out
}
