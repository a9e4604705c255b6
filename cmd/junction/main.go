// Command junction is Junction's one binary:
//
//	junction migrate            apply every pending migration (River's and the app's) and exit
//	junction serve              migrate, then serve the HTTP API on $PORT (and work jobs unless WORKERS_ENABLED=false)
//	junction worker             migrate, then work jobs only
//	junction grant-admin EMAIL  make a user an admin
//
// Settings come from the environment; see the README for the full table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/lifecycle"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/tracing"
)

func main() {
	tuneMemory(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "junction:", err)
		os.Exit(1)
	}
}

const usage = "usage: junction migrate | serve | worker | grant-admin EMAIL"

// run is the whole program, with its inputs passed in so that tests can start it on port 0 with their own
// environment. It returns when the command is done or ctx is cancelled (serve shuts down gracefully then).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runWith(ctx, args, getenv, stdout, nil)
}

// runWith is run with spans handed to processors besides the exporter that OTEL_* configures, which turn tracing
// on by themselves: the tests record a run's spans in process with one.
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, processors []sdktrace.SpanProcessor) error {
	if len(args) == 0 || (args[0] == "grant-admin") != (len(args) == 2) || len(args) > 2 {
		return errors.New(usage)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel)
	tr, err := tracing.New(ctx, cfg.Tracing, tracing.Options{SpanProcessors: processors, Logger: logger})
	if err != nil {
		return err
	}
	// serve and worker stop the provider last of their components, within the shutdown's budget; this covers the
	// other commands, and a start-up that fails. A second stop does nothing.
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		if err := tr.Stop(stopCtx); err != nil {
			logger.Warn("tracing did not stop cleanly", "err", err)
		}
	}()
	if tr.Enabled() {
		logger = slog.New(tracing.LogHandler(logger.Handler()))
		logger.InfoContext(ctx, "tracing on", "exporting", cfg.Tracing.Enabled(), "sampler", cfg.Tracing.Sampler,
			"sampler_arg", cfg.Tracing.SamplerArg, "service", cfg.Tracing.ServiceName)
	}
	if args[0] != "migrate" {
		if err := cfg.RequireJWTSecret(); err != nil {
			return err
		}
	}
	if args[0] == "serve" || args[0] == "worker" {
		if err := cfg.RequireMailTransport(); err != nil {
			return err
		}
		gcPercent, memoryLimit := memorySettings()
		logger.InfoContext(ctx, "memory", "gc_percent", gcPercent, "memory_limit_bytes", memoryLimit)
	}

	switch args[0] {
	case "migrate":
		// The migrations' lock is a session's: over the direct connection.
		var pool *pgxpool.Pool
		var err error
		if cfg.DB.TransactionPooling {
			pool, err = postgres.ConnectSession(ctx, cfg.DatabaseSessionURL, cfg.DB, logger)
		} else {
			pool, err = postgres.Connect(ctx, cfg.DatabaseSessionURL, cfg.DB, logger, sqlTracers(tr)...)
		}
		if err != nil {
			return err
		}
		defer pool.Close()
		return postgres.Migrate(ctx, pool, logger)
	case "serve":
		return serve(ctx, cfg, logger, tr)
	case "worker":
		return work(ctx, cfg, logger, tr)
	case "grant-admin":
		a, err := newApp(ctx, cfg, logger, tr, false)
		if err != nil {
			return err
		}
		defer a.close()
		if err := a.svc.Accounts.GrantAdmin(ctx, args[1]); err != nil {
			return fmt.Errorf("grant-admin: %w", err)
		}
		logger.InfoContext(ctx, "granted admin", "email", args[1])
		return nil
	default:
		return fmt.Errorf("unknown command %q; %s", args[0], usage)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// serve runs the API until ctx ends. Its components start in this order and stop in reverse, each after what it
// uses and before it (the pool opens first and closes last, in newApp and close):
//
//  0. the tracer provider, which works from its creation on and stops last, flushing the spans of the last
//     requests and jobs (tracerComponent);
//  1. the debug and metrics servers, so that a start-up or a shutdown can be watched;
//  2. the event listener, so that the authentication cache and subscribers hear every change before a request
//     arrives, and the webhook intake;
//  3. the rate-limit store when REDIS_URL is set (its probe of Redis), River UI's background services, then River's
//     workers (WORKERS_ENABLED);
//  4. the WebSockets, which only stop: once the API server has drained, they are ended with 1001 (Going Away),
//     while the listener still feeds them, since http.Server.Shutdown does not reach hijacked connections;
//  5. the API server, last: it takes requests only once everything they reach runs. Stopping it first drains the
//     requests in flight, whose jobs and deliveries the later stops then finish.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, tr *tracing.Tracing) error {
	a, err := newApp(ctx, cfg, logger, tr, cfg.Jobs.WorkersEnabled)
	if err != nil {
		return err
	}
	defer a.close()
	handler, parts, err := a.handler(ctx)
	if err != nil {
		return err
	}
	failed := make(chan error, 3)
	components := []lifecycle.Named{tracerComponent(tr)}
	if cfg.DebugAddr != "" {
		aside, err := listenAside("debug server", cfg.DebugAddr, debugHandler(), failed)
		if err != nil {
			return err
		}
		components = append(components, aside)
	}
	if cfg.MetricsAddr != "" {
		aside, err := listenAside("metrics server", cfg.MetricsAddr, a.metrics.Handler(), failed)
		if err != nil {
			return err
		}
		components = append(components, aside)
	}
	components = append(components, a.svc.Components()...)
	components = append(components, parts...)
	if cfg.Jobs.WorkersEnabled {
		components = append(components, lifecycle.Named{Name: "river workers", Component: a.river})
	}
	api, err := listen(net.JoinHostPort("", strconv.Itoa(cfg.Port)), &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, true, failed)
	if err != nil {
		return err
	}
	components = append(components,
		lifecycle.Named{Name: "websockets", Component: lifecycle.Funcs{
			StartFunc: func(context.Context) error { return nil },
			StopFunc:  a.graphql.CloseSockets,
		}},
		lifecycle.Named{Name: "api server", Component: api})

	group := lifecycle.New(logger)
	if err := group.Start(ctx, components...); err != nil {
		return err
	}
	// Building the handlers parsed the contract (kin-openapi's YAML parse), which made about 16 MB of heap for
	// the 3 MB it leaves live: collected, those pages stay resident until the scavenger returns them, a few at
	// a time. Returned at once, an idle instance holds about 8 MB of anonymous memory instead of 13-20
	// (docs/performance.md, idle RSS). One collection, once, before the first request.
	debug.FreeOSMemory()
	port := api.ln.Addr().(*net.TCPAddr).Port
	logger.InfoContext(ctx, "serving",
		"addr", api.ln.Addr().String(),
		"api", fmt.Sprintf("http://localhost:%d/api/users", port),
		"docs", fmt.Sprintf("http://localhost:%d/docs", port),
		"env", cfg.Env, "workers", cfg.Jobs.WorkersEnabled)
	for _, c := range components[:len(components)-1] {
		if s, ok := c.Component.(*httpServer); ok {
			logger.InfoContext(ctx, c.Name, "addr", s.ln.Addr().String())
		}
	}
	drain := func() {
		// Still serving, but no longer ready: the load balancer's checks take this instance out meanwhile.
		a.draining.Store(true)
		if cfg.HTTP.DrainDelay > 0 {
			logger.Info("draining", "delay", cfg.HTTP.DrainDelay.String())
			time.Sleep(cfg.HTTP.DrainDelay)
		}
	}
	return runUntil(ctx, cfg, logger, group, failed, drain)
}

// work runs the job workers only, until ctx ends; the tracer provider stops after them, as in serve.
func work(ctx context.Context, cfg config.Config, logger *slog.Logger, tr *tracing.Tracing) error {
	a, err := newApp(ctx, cfg, logger, tr, true)
	if err != nil {
		return err
	}
	defer a.close()
	failed := make(chan error, 1)
	components := []lifecycle.Named{tracerComponent(tr)}
	if cfg.MetricsAddr != "" {
		// The workers' own metrics (webhook attempts) are counted in this process.
		aside, err := listenAside("metrics server", cfg.MetricsAddr, a.metrics.Handler(), failed)
		if err != nil {
			return err
		}
		components = append(components, aside)
	}
	components = append(components, lifecycle.Named{Name: "river workers", Component: a.river})
	group := lifecycle.New(logger)
	if err := group.Start(ctx, components...); err != nil {
		return err
	}
	logger.InfoContext(ctx, "working jobs", "email_concurrency", cfg.Jobs.EmailConcurrency, "webhook_concurrency", cfg.Webhooks.Concurrency)
	return runUntil(ctx, cfg, logger, group, failed, nil)
}

// tracerComponent is the tracer provider as the first component to start and so the last to stop: its Stop
// exports what the servers and workers stopped before it left queued.
func tracerComponent(tr *tracing.Tracing) lifecycle.Named {
	return lifecycle.Named{Name: "tracer provider", Component: tr}
}

// runUntil waits for ctx to end (a signal) or a server to fail, then stops group within the shutdown timeout;
// after a signal, drain (when not nil) runs first.
func runUntil(ctx context.Context, cfg config.Config, logger *slog.Logger, group *lifecycle.Group, failed <-chan error, drain func()) error {
	var serveErr error
	select {
	case serveErr = <-failed:
		logger.ErrorContext(ctx, "a server failed; shutting down", "err", serveErr)
	case <-ctx.Done():
		if drain != nil {
			drain()
		}
	}
	logger.Info("shutting down", "timeout", cfg.HTTP.ShutdownTimeout.String())
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := errors.Join(serveErr, group.Stop(stopCtx)); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// debugHandler serves the pprof profiles.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// httpServer serves on a listener between Start and Stop. A graceful one stops taking connections and waits,
// until its context ends, for the requests in flight; one that is not (the debug and metrics servers) just closes.
type httpServer struct {
	srv      *http.Server
	ln       net.Listener
	graceful bool
	failed   chan<- error
}

// listen binds addr now, so that a port in use fails the start-up before anything runs.
func listen(addr string, srv *http.Server, graceful bool, failed chan<- error) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return &httpServer{srv: srv, ln: ln, graceful: graceful, failed: failed}, nil
}

// listenAside is a server apart from the API, so that what it shows (profiles, metrics) is never exposed with it.
func listenAside(name, addr string, h http.Handler, failed chan<- error) (lifecycle.Named, error) {
	s, err := listen(addr, &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, false, failed)
	if err != nil {
		return lifecycle.Named{}, fmt.Errorf("%s: %w", name, err)
	}
	return lifecycle.Named{Name: name, Component: s}, nil
}

func (s *httpServer) Start(context.Context) error {
	go func() {
		if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			s.failed <- fmt.Errorf("serve %s: %w", s.ln.Addr(), err)
		}
	}()
	return nil
}

func (s *httpServer) Stop(ctx context.Context) error {
	if s.graceful {
		return s.srv.Shutdown(ctx)
	}
	return s.srv.Close()
}
