package graph

import (
	"cmp"
	"context"
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

	"github.com/junction-dev/junction/gen/gql"
	"github.com/junction-dev/junction/impl/auth"
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
	LoaderWait  time.Duration
	Development bool
	Logger      *slog.Logger
}

// Path is where the endpoint is mounted: POST for operations, GET for GraphiQL and WebSocket subscriptions.
const Path = "/graphql"

// NewHandler returns the GraphQL endpoint over svc, with subscriptions fed by broker, GraphiQL's page and its
// assets (mount it at Path and under AssetsPath).
func NewHandler(svc *service.Service, broker *Broker, opts Options) http.Handler {
	srv := handler.New(gql.NewExecutableSchema(gql.Config{Resolvers: &Resolver{svc: svc, broker: broker}, Complexity: costs()}))
	readLimit := opts.BodyLimit
	srv.AddTransport(transport.Websocket{
		Implementation:        checkedWebsocket{transport.CoderWebsocketImplementation{}},
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		PayloadReadLimit:      &readLimit,
		// The token comes in connection_init's payload ({"Authorization": "Bearer ..."}), as browsers cannot set
		// headers on a WebSocket.
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token, ok := auth.BearerToken(p.Authorization())
			if !ok {
				return ctx, &p, nil
			}
			actor, err := svc.Authenticate(ctx, token)
			if err != nil {
				return ctx, nil, errors.New("invalid token")
			}
			return service.NewContextWithActor(ctx, actor), &p, nil
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(postJSON{logger: opts.Logger})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(queryText{})
	// Depth first: it is the cheaper walk, and says more about a deep query than its (saturated) cost does.
	srv.Use(depthLimit{max: opts.MaxDepth})
	srv.Use(&costLimit{limit: opts.MaxComplexity})
	srv.Use(sizeCap{max: cmp.Or(opts.MaxResponseBytes, 4<<20), logger: opts.Logger})
	srv.SetErrorPresenter(errorPresenter(opts))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		opts.Logger.ErrorContext(ctx, "graphql panic", "panic", v)
		return errors.New("internal error")
	})

	page, assets := graphiQL()
	api := authenticate(svc, withLoaders(svc, cmp.Or(opts.LoaderWait, 2*time.Millisecond), srv))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, AssetsPath) {
			assets.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			page.ServeHTTP(w, r)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, opts.BodyLimit)
		}
		api.ServeHTTP(w, r)
	})
}

// authenticate reads a bearer token like REST does: none means anonymous; an invalid one is refused.
func authenticate(svc *service.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := auth.BearerToken(header)
		var actor service.Actor
		var err error
		if ok {
			actor, err = svc.Authenticate(r.Context(), token)
		}
		if !ok || err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="junction"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"message":"The token is missing, invalid or expired.","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`))
			return
		}
		next.ServeHTTP(w, r.WithContext(service.NewContextWithActor(r.Context(), actor)))
	})
}

// codes maps service errors to extensions.code, in one table.
var codes = map[service.Code]string{
	service.EUNAUTHORIZED: "UNAUTHENTICATED",
	service.EFORBIDDEN:    "FORBIDDEN",
	service.ENOTFOUND:     "NOT_FOUND",
	service.EINVALID:      "BAD_USER_INPUT",
	service.ECONFLICT:     "CONFLICT",
	service.EUNAVAILABLE:  "SERVICE_UNAVAILABLE",
}

func errorPresenter(opts Options) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if errors.Is(err, errResponseTooLarge) {
			return nil // the answer is replaced by one error (sizeCap); this field's would be one of thousands
		}
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		se, public := service.Public(err)
		switch {
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
