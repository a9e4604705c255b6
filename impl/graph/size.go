package graph

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// sizeCap cuts an answer once the values resolved for it pass max bytes, while it is being built: the cost
// estimate counts items, not the 50,000 characters a post's content may hold, so 100 such posts (or a few
// aliases of them) cost little and weigh 5 MB each. Every field's value is counted as it resolves; once over,
// every field still to resolve stops at once (so no more resolvers, dataloaders or SQL run) and the answer is
// replaced by one RESPONSE_TOO_LARGE error.
//
// It is on every field's path, so it stays cheap: one context lookup, a type switch and an atomic add.
type sizeCap struct {
	max    int64
	logger *slog.Logger
}

var (
	_ graphql.HandlerExtension    = sizeCap{}
	_ graphql.ResponseInterceptor = sizeCap{}
	_ graphql.FieldInterceptor    = sizeCap{}
)

// errResponseTooLarge stops the fields that resolve after the cap is passed. The error presenter drops it: the
// answer it would have been part of is replaced by one error.
var errResponseTooLarge = errors.New("graphql: response over its size cap")

// sizeBudget is one answer's count (a subscription's each event is one answer).
type sizeBudget struct {
	limit int64
	used  atomic.Int64
	over  atomic.Bool
}

// maxEventBytes caps each event of a subscription, below an answer's cap: one write fans out to every
// subscriber at once (a socket may hold 20 subscriptions, an address 50 sockets), so what one event may weigh is
// multiplied by them all. A post with its largest content and its author fits.
const maxEventBytes = 512 << 10

type sizeBudgetKey struct{}

func (sizeCap) ExtensionName() string                   { return "ResponseSizeCap" }
func (sizeCap) Validate(graphql.ExecutableSchema) error { return nil }

func (s sizeCap) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	b := &sizeBudget{limit: s.max}
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			b.limit = min(b.limit, maxEventBytes)
		}
	}
	resp := next(context.WithValue(ctx, sizeBudgetKey{}, b))
	if resp == nil || !b.over.Load() {
		return resp
	}
	s.logger.WarnContext(ctx, "graphql response too large", "limit", b.limit)
	err := gqlerror.Errorf("The answer is over %d bytes, the most this server sends. Ask for fewer items (limit, first, last) or fewer fields.", b.limit)
	err.Extensions = map[string]any{"code": "RESPONSE_TOO_LARGE", "limit": b.limit}
	return &graphql.Response{Errors: gqlerror.List{err}, Extensions: resp.Extensions}
}

func (s sizeCap) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	b, _ := ctx.Value(sizeBudgetKey{}).(*sizeBudget)
	if b == nil {
		return next(ctx)
	}
	if b.over.Load() {
		return nil, errResponseTooLarge
	}
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	n := valueBytes(res)
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		n += int64(len(fc.Field.Alias)) + 4 // "alias":  and a comma
	}
	if b.used.Add(n) > b.limit {
		b.over.Store(true)
		return nil, errResponseTooLarge
	}
	return res, nil
}

// valueBytes is about what v takes in the JSON answer. Objects and lists count their brackets only: their
// fields are counted as they resolve.
func valueBytes(v any) int64 {
	switch v := v.(type) {
	case string:
		return quotedBytes(v)
	case *string:
		if v == nil {
			return 4
		}
		return quotedBytes(*v)
	case bool, *bool:
		return 5
	case int, int32, int64, *int:
		return 11
	case time.Time, *time.Time:
		return 37 // a quoted RFC 3339 time with nanoseconds and an offset
	case nil:
		return 4
	default:
		return 2
	}
}

// quotedBytes is the length of s as a JSON string: escapes take 2 or 6 bytes (encoding/json writes <, > and &
// as \u003c and so on), which is what content made of them would otherwise slip past the cap with.
func quotedBytes(s string) int64 {
	n := int64(len(s)) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			n += 5
		}
	}
	return n
}
