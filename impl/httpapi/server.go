package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	junction "github.com/junction-dev/junction"
	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/tracing"
	"github.com/junction-dev/junction/impl/webhook"
)

// Server implements the REST operations of openapi.yaml on top of the services.
type Server struct {
	svc      Services
	draining func() bool
}

var _ api.StrictServerInterface = (*Server)(nil)

// Options configure [NewHandler].
type Options struct {
	// Development shows internal error details in 500 responses.
	Development bool
	Logger      *slog.Logger
	// Limits is the rate-limit policy, shared with every other entrance (GraphQL) so that each action is counted
	// once whichever way it comes.
	Limits *ratelimit.Limits
	// TrustedProxies are the proxies whose X-Forwarded-For names the client ([clientip]).
	TrustedProxies []netip.Prefix
	// RequestTimeout is each request's deadline (0: none); MaxConcurrent caps requests in flight (0: none).
	RequestTimeout time.Duration
	MaxConcurrent  int
	// CORSOrigins may call the API from browsers on other origins; none by default.
	CORSOrigins []string
	// StripeVerifier checks the signatures of Stripe webhooks.
	StripeVerifier *webhook.Verifier
	// Metrics, when set, counts every request (its handler is served elsewhere, never on the API's port).
	Metrics Metrics
	// GraphQL is mounted at /graphql, and GraphiQL's assets under /graphql/assets/; nil mounts nothing.
	GraphQL http.Handler
	// AdminJobs is River UI, mounted at AdminJobsPath for admins only; nil mounts nothing.
	AdminJobs http.Handler
	// Draining, when set and true, makes /readyz answer 503 while everything else still serves: a load balancer
	// takes the instance out before it stops taking connections (SHUTDOWN_DRAIN_DELAY).
	Draining func() bool
	// TracerProvider, when set, makes a server span of every request but WebSocket upgrades, named by its
	// route, continuing an incoming traceparent (tracing.go). nil adds no middleware at all.
	TracerProvider trace.TracerProvider
	// Propagator reads an incoming trace context; nil is [tracing.Propagator]'s W3C Trace Context and Baggage.
	Propagator propagation.TextMapPropagator
}

// Metrics counts requests (impl/metrics).
type Metrics interface {
	// ObserveRequest counts one request: its route pattern ("" when no route matched), method, status and
	// duration.
	ObserveRequest(route, method string, status int, elapsed time.Duration)
}

// NewHandler returns the whole HTTP surface: the API under its spec's paths, the spec itself at /openapi.yaml and
// /openapi.json, and Swagger UI at /docs.
func NewHandler(svc Services, opts Options) (http.Handler, error) {
	if err := svc.missing(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		// Every request logs through it: a handler built without one would panic on its first request.
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	doc, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	problems, err := loadProblemTypes(doc)
	if err != nil {
		return nil, err
	}
	errs := errorWriter{dev: opts.Development, logger: opts.Logger, problems: problems}
	signIn := authn.New(svc.Accounts)
	authr := &authenticator{authn: signIn, stripe: opts.StripeVerifier}
	gate, err := newGate(doc, opts.Limits, authr, svc.Idempotency, errs)
	if err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	// GetHead first: every GET route answers HEAD through the same handler, so with the same status and headers
	// (net/http drops the body).
	r.Use(middleware.GetHead, requestContext(opts.TrustedProxies))
	if opts.TracerProvider != nil {
		prop := opts.Propagator
		if prop == nil {
			prop = tracing.Propagator()
		}
		r.Use(traceRequests(opts.TracerProvider, prop))
	}
	r.Use(accessLog(opts.Logger), recoverer(errs), securityHeaders(), corsFor(opts.CORSOrigins, doc),
		bodyFirst(gate.maxBodyLimit(), bodyBudget, errs), concurrencyCap(opts.MaxConcurrent, errs), deadline(opts.RequestTimeout))
	if opts.Metrics != nil {
		r.Use(countRequests(opts.Metrics))
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		errs.write(w, r, http.StatusNotFound, "No such resource.", nil)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", strings.Join(allowedMethods(r, req), ", "))
		errs.write(w, req, http.StatusMethodNotAllowed, "This method is not allowed on this resource.", nil)
	})

	r.Get("/openapi.yaml", serveBytes("application/yaml", junction.OpenAPIYAML))
	r.Get("/openapi.json", serveContractJSON(errs))
	if err := mountDocs(r); err != nil {
		return nil, err
	}

	server := &Server{svc: svc, draining: opts.Draining}
	if opts.GraphQL != nil {
		r.Handle(graphQLPath, opts.GraphQL)
		r.Get(graphQLPath+"/assets/*", opts.GraphQL.ServeHTTP) // GraphiQL's scripts and styles
	}
	if opts.AdminJobs != nil {
		admin := server.adminOnly(signIn, opts.Limits, errs, opts.AdminJobs)
		r.Handle(AdminJobsPath, admin)
		r.Handle(AdminJobsPath+"/*", admin)
	}

	strict := api.NewStrictHandlerWithOptions(server, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			// The validator has already accepted the body, so this is rare: report it as a bad body.
			errs.write(w, r, http.StatusBadRequest, "The request body is invalid.", map[string][]string{"body": {"could not be decoded"}})
		},
		ResponseErrorHandlerFunc: errs.service,
	})
	r.Group(func(r chi.Router) {
		r.Use(gate.middleware)
		api.HandlerWithOptions(strict, api.ChiServerOptions{
			BaseRouter: r,
			ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"request": {err.Error()}})
			},
		})
	})
	return r, nil
}

// allowedMethods lists the methods that routes has for req's path (RFC 9110's Allow), HEAD wherever GET is.
func allowedMethods(routes chi.Routes, req *http.Request) []string {
	path := req.URL.RawPath
	if path == "" {
		path = req.URL.Path
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if routes.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
			if m == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	return out
}

// contractJSON is openapi.yaml as JSON, as written: the generated package's embedded copy is what oapi-codegen
// generated from (oapi-codegen.overlay.yaml leaves out the headers middleware sets).
func contractJSON() ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(junction.OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	return b, nil
}

// serveContractJSON serves contractJSON, made on the first request rather than at start-up: parsing the contract
// a second time (the gate has its own copy) made a fifth of the start-up's garbage, which an idle process kept in its
// RSS. TestDocsAndSpec checks the document.
func serveContractJSON(errs errorWriter) http.HandlerFunc {
	spec := sync.OnceValues(contractJSON)
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := spec()
		if err != nil {
			errs.logger.ErrorContext(r.Context(), "openapi.json", "error", err)
			errs.write(w, r, http.StatusInternalServerError, "An unexpected error occurred.", nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

func serveBytes(contentType string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(b)
	}
}

// GetHealth answers while the process runs.
func (s *Server) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: "ok"}, nil
}

// GetReadiness answers 200 when the database answers within a second, and the process is not shutting down.
func (s *Server) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	if s.draining != nil && s.draining() {
		return nil, &service.Error{Code: service.EUNAVAILABLE, Message: "The service is shutting down."}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.svc.Ops.Ready(ctx); err != nil {
		return nil, err
	}
	return api.GetReadiness200JSONResponse{Status: "ok"}, nil
}
