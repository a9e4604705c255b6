package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// Options bound and configure the GraphQL endpoint.
type Options struct {
	Introspection bool
	MaxDepth      int
	// MaxComplexity is the most an operation may cost, priced from its text and arguments (cost.go).
	MaxComplexity int
	// MaxResponseBytes cuts an answer whose values pass it, while they resolve (size.go); 0 means 4 MiB.
	MaxResponseBytes int64
	// BodyLimit bounds a request body in bytes (and a WebSocket message).
	BodyLimit int64
	// LoaderWait is how long dataloaders collect keys before querying (default 2 ms).
	LoaderWait time.Duration
	// GeneratedExecutorOnly answers every field through gqlgen's generated executor, without the fast path of
	// the read root fields (fastpath.go): the reference the fast path is tested against.
	GeneratedExecutorOnly bool
	Development           bool
	Logger                *slog.Logger
	// Limits is the rate-limit policy shared with REST; schema.graphqls' @rateLimit says what each root field counts as.
	Limits *ratelimit.Limits
	// WebSocket caps the subscription sockets.
	WebSocket WebSocketOptions
	// TracerProvider, when set, makes a span of each operation (tracing.go); the HTTP request's span, which
	// httpapi makes, holds it. nil: none.
	TracerProvider trace.TracerProvider
}

// Path is where the endpoint is mounted: POST for operations, GET for GraphiQL and WebSocket subscriptions.
const Path = "/graphql"

// Handler is the GraphQL endpoint: queries and mutations over HTTP, subscriptions over WebSocket, GraphiQL.
type Handler struct {
	http.Handler
	caps *wsCaps
}

// CloseSockets ends every open WebSocket with 1001 (Going Away), refuses new ones, and waits until they have
// closed or ctx ends. A server's Shutdown does not reach WebSockets: their owner calls this when it stops.
func (h *Handler) CloseSockets(ctx context.Context) error { return h.caps.closeAll(ctx) }

// NewHandler returns the GraphQL endpoint over svc, with subscriptions fed by broker, GraphiQL's page and its
// assets (mount it at Path and under AssetsPath). It panics when a service is not set: a wiring mistake, caught at
// start-up rather than by the first query that needs it.
func NewHandler(svc Services, broker *Broker, opts Options) *Handler {
	if svc.Accounts == nil || svc.Users == nil || svc.Posts == nil || svc.Comments == nil || svc.Idempotency == nil {
		panic("graph: NewHandler needs every service (Accounts, Users, Posts, Comments, Idempotency)")
	}
	signIn := authn.New(svc.Accounts)
	resolver := &Resolver{svc: svc, broker: broker}
	srv := handler.New(gql.NewExecutableSchema(gql.Config{
		Resolvers:  resolver,
		Directives: gql.DirectiveRoot{RateLimit: rateLimit(opts.Limits)},
		Complexity: costs(),
	}))
	readLimit := opts.BodyLimit
	srv.AddTransport(transport.Websocket{
		Implementation: wsImplementation{
			inner: checkedWebsocket{transport.CoderWebsocketImplementation{}}, rate: opts.WebSocket.MessageRate,
		},
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		PayloadReadLimit:      &readLimit,
		// The token comes in connection_init's payload ({"Authorization": "Bearer ..."}), as browsers cannot set
		// headers on a WebSocket.
		InitFunc: initSocket(signIn, broker),
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(postJSON{logger: opts.Logger})
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(maxTokens)
	srv.SetValidationRulesFn(validationRules)
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(queryText{})
	// Before gqlgen parses and validates: the bounds keep validation's pairwise comparisons and the walkers below
	// small (bounds.go).
	srv.Use(documentBounds{cache: cache})
	srv.Use(errorCap{})
	// Depth first: it is the cheaper walk, and says more about a deep query than its (saturated) cost does.
	srv.Use(depthLimit{max: opts.MaxDepth})
	srv.Use(&costLimit{limit: opts.MaxComplexity})
	srv.Use(sizeCap{max: cmp.Or(opts.MaxResponseBytes, 4<<20), logger: opts.Logger})
	if !opts.GeneratedExecutorOnly {
		srv.Use(fastReads{r: resolver, limits: opts.Limits})
	}
	if opts.TracerProvider != nil {
		srv.Use(operationSpans{tracer: opts.TracerProvider.Tracer(tracerName)})
	}
	present := errorPresenter(opts)
	srv.Use(introspectionLimit{limits: opts.Limits, present: present})
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		opts.Logger.ErrorContext(ctx, "graphql panic", "panic", v)
		return errors.New("internal error")
	})

	page, assets := graphiQL()
	api := withLimitHeaders(authenticate(signIn, opts.Limits,
		withIdempotency(svc.Idempotency, withLoaders(svc, cmp.Or(opts.LoaderWait, 2*time.Millisecond), srv))))
	caps := newWSCaps(opts.WebSocket)
	return &Handler{caps: caps, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, AssetsPath) {
			assets.ServeHTTP(w, r)
			return
		}
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			page.ServeHTTP(w, r)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, opts.BodyLimit)
		}
		if r.Header.Get("Upgrade") != "" { // what gqlgen's WebSocket transport takes
			serveWebSocket(w, r, caps, broker, api)
			return
		}
		if refuseTransport(w, r) {
			return
		}
		// An answer can carry a secret (login's token), as REST's token answer does: no cache keeps any.
		w.Header().Set("Cache-Control", "no-store")
		api.ServeHTTP(w, r)
	})}
}

// refuseTransport answers what no transport takes, as gqlgen would with a 400 and no code: another method is a
// 405 naming the allowed ones, a POST of another type than JSON (text/plain, application/graphql, a form) a 415.
func refuseTransport(w http.ResponseWriter, r *http.Request) bool {
	status, msg := 0, ""
	switch r.Method {
	case http.MethodGet, http.MethodOptions:
		return false
	case http.MethodPost:
		if (postJSON{}).Supports(r) {
			return false
		}
		status, msg = http.StatusUnsupportedMediaType, "A GraphQL request is a POST of Content-Type application/json."
		w.Header().Set("Accept-Post", "application/json")
	default:
		status, msg = http.StatusMethodNotAllowed, "GraphQL takes GET (GraphiQL, WebSocket), POST (operations) and OPTIONS."
		w.Header().Set("Allow", "GET, POST, OPTIONS")
	}
	writeError(w, status, msg, map[string]any{"code": "BAD_REQUEST"})
	return true
}

// authenticate signs the caller in as every entrance does ([authn]): none means anonymous; an invalid token is a
// 401, and an outage a 503, as in REST. A refused token spends one default action, as a REST request refused at
// the same point does, so that token guessing is limited like anything else.
func authenticate(signIn *authn.Authenticator, limits *ratelimit.Limits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, signedIn, err := signIn.Authorization(r.Context(), r.Header.Get("Authorization"), authn.Optional)
		if err != nil {
			var exceeded *ratelimit.ExceededError
			if errors.As(countAction(r.Context(), limits, ratelimit.ActionDefault, ""), &exceeded) {
				writeError(w, http.StatusTooManyRequests, exceeded.Error(), rateLimitedExtensions(exceeded))
				return
			}
			if service.ErrorCode(err) == service.EUNAVAILABLE {
				w.Header().Set("Retry-After", "1")
				writeError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable; retry shortly.",
					map[string]any{"code": codes[service.EUNAVAILABLE]})
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="junction"`)
			writeError(w, http.StatusUnauthorized, "The token is missing, invalid or expired.",
				map[string]any{"code": codes[service.EUNAUTHORIZED]})
			return
		}
		if signedIn {
			r = r.WithContext(service.NewContextWithActor(r.Context(), actor))
		}
		next.ServeHTTP(w, r)
	})
}

// writeError answers a request refused before any operation ran (by its transport, its token, its limits) in
// GraphQL's JSON error shape, with status.
func writeError(w http.ResponseWriter, status int, message string, extensions map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors []gqlerror.Error `json:"errors"`
		Data   any              `json:"data"`
	}{Errors: []gqlerror.Error{{Message: message, Extensions: extensions}}})
}

// codes maps service errors to extensions.code, in one table.
var codes = map[service.Code]string{
	service.EUNAUTHORIZED:  "UNAUTHENTICATED",
	service.EFORBIDDEN:     "FORBIDDEN",
	service.ENOTFOUND:      "NOT_FOUND",
	service.EINVALID:       "BAD_USER_INPUT",
	service.ECONFLICT:      "CONFLICT",
	service.EUNPROCESSABLE: "UNPROCESSABLE",
	service.EPRECONDITION:  "PRECONDITION_FAILED",
	service.EUNAVAILABLE:   "SERVICE_UNAVAILABLE",
}

func errorPresenter(opts Options) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if errors.Is(err, errResponseTooLarge) {
			return nil // the answer is replaced by one error (sizeCap); this field's would be one of thousands
		}
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		se, public := service.Public(err)
		var exceeded *ratelimit.ExceededError
		switch {
		case errors.As(err, &exceeded):
			gqlErr.Message = exceeded.Error()
			gqlErr.Extensions = rateLimitedExtensions(exceeded)
		case public:
			if se.Code == service.EUNAVAILABLE {
				opts.Logger.WarnContext(ctx, "graphql unavailable", "err", err, "path", gqlErr.Path.String())
			}
			gqlErr.Message = se.Message
			gqlErr.Extensions = map[string]any{"code": codes[se.Code]}
			if len(se.Fields) > 0 {
				gqlErr.Extensions["fields"] = se.Fields
			}
		case gqlErr.Err == nil:
			// gqlgen's own: a parse, validation or input-coercion error about the request.
			var oc *graphql.OperationContext
			if graphql.HasOperationContext(ctx) {
				oc = graphql.GetOperationContext(ctx)
			}
			redactRequestError(oc, gqlErr)
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			if _, ok := gqlErr.Extensions["code"]; !ok {
				gqlErr.Extensions["code"] = "BAD_USER_INPUT"
			}
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			// The client went away: nobody will read the answer, and it is not the server's failure.
			opts.Logger.InfoContext(ctx, "graphql client closed the request", "path", gqlErr.Path.String())
			gqlErr.Message = "The request was cancelled."
			gqlErr.Extensions = map[string]any{"code": "CLIENT_CLOSED_REQUEST"}
		default:
			opts.Logger.ErrorContext(ctx, "graphql internal error", "err", err, "path", gqlErr.Path.String())
			if !opts.Development {
				gqlErr.Message = "An unexpected error occurred."
			}
			gqlErr.Extensions = map[string]any{"code": "INTERNAL_SERVER_ERROR"}
		}
		return gqlErr
	}
}
