package graph

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/junction-dev/junction/impl/idempotent"
	"github.com/junction-dev/junction/impl/ratelimit"
)

// rateLimit implements schema.graphqls' @rateLimit: every root field names its action, and each execution of one
// (each alias, each operation of a batch) is counted by the same [ratelimit.Limits] as REST's, before its resolver
// runs.
func rateLimit(limits *ratelimit.Limits) func(context.Context, any, graphql.Resolver, string, *string) (any, error) {
	return func(ctx context.Context, _ any, next graphql.Resolver, action string, account *string) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		target := ""
		if account != nil {
			target, _ = fc.Args[*account].(string)
		}
		// A keyed mutation run again (impl/idempotent) is still one request: its fields are counted once.
		err := idempotent.Once(ctx, func() string { return "rateLimit " + fc.Path().String() }, func() error {
			return countAction(ctx, limits, ratelimit.Action(action), target)
		})
		if err != nil {
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

// introspectionLimit counts each root field whose name starts with "__" (__schema, __type, __typename) as one
// `default` action, through the same [ratelimit.Limits] as @rateLimit: the schema cannot put a directive on
// them, and gqlgen answers a root __typename without any middleware, so without this {__typename} and
// {__schema {...}} counted nothing at all. It runs before any of the operation's fields; a refusal answers the
// whole operation with the one RATE_LIMITED error.
type introspectionLimit struct {
	limits  *ratelimit.Limits
	present graphql.ErrorPresenterFunc
}

var (
	_ graphql.HandlerExtension     = introspectionLimit{}
	_ graphql.OperationInterceptor = introspectionLimit{}
)

func (introspectionLimit) ExtensionName() string                   { return "IntrospectionRateLimit" }
func (introspectionLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l introspectionLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	root := "Query"
	switch oc.Operation.Operation {
	case ast.Mutation:
		root = "Mutation"
	case ast.Subscription:
		root = "Subscription"
	}
	// CollectFields applies @skip and @include and merges one response name into one field, as execution does:
	// each field counted is one that would run.
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{root}) {
		if !strings.HasPrefix(f.Name, "__") {
			continue
		}
		if err := countAction(ctx, l.limits, ratelimit.ActionDefault, ""); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{l.present(ctx, err)}})
		}
	}
	return next(ctx)
}

// countAction counts one action against limits, shows it in the HTTP answer's RateLimit fields, and returns the
// refusal if it is over.
func countAction(ctx context.Context, limits *ratelimit.Limits, action ratelimit.Action, target string) error {
	res, err := limits.Check(ctx, action, target)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", action, err)
	}
	if h, ok := ctx.Value(limitHeadersKey{}).(*limitHeaders); ok {
		h.add(res)
	}
	return res.Err()
}
