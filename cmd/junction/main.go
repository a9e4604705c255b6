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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/postgres"
)

func main() {
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
	if len(args) == 0 || (args[0] == "grant-admin") != (len(args) == 2) || len(args) > 2 {
		return errors.New(usage)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel)
	if args[0] != "migrate" {
		if err := cfg.RequireJWTSecret(); err != nil {
			return err
		}
	}
	if args[0] == "serve" || args[0] == "worker" {
		if err := cfg.RequireMailTransport(); err != nil {
			return err
		}
	}

	switch args[0] {
	case "migrate":
		pool, err := postgres.Connect(ctx, cfg.DatabaseURL, cfg.DB, logger)
		if err != nil {
			return err
		}
		defer pool.Close()
		return postgres.Migrate(ctx, pool, logger)
	case "serve":
		return serve(ctx, cfg, logger)
	case "worker":
		return work(ctx, cfg, logger)
	case "grant-admin":
		a, err := newApp(ctx, cfg, logger, false)
		if err != nil {
			return err
		}
		defer a.close()
		if err := a.svc.GrantAdmin(ctx, args[1]); err != nil {
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

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	a, err := newApp(ctx, cfg, logger, cfg.Jobs.WorkersEnabled)
	if err != nil {
		return err
	}
	defer a.close()
	handler, err := a.handler(ctx)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.Jobs.WorkersEnabled {
		// Not ctx: a signal must stop jobs gracefully (Stop below), not cancel the running ones.
		if err := a.river.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	logger.InfoContext(ctx, "serving",
		"addr", ln.Addr().String(),
		"api", fmt.Sprintf("http://localhost:%d/api/users", port),
		"docs", fmt.Sprintf("http://localhost:%d/docs", port),
		"env", cfg.Env, "workers", cfg.Jobs.WorkersEnabled)

	if cfg.DebugAddr != "" {
		if err := serveAside(ctx, "debug server", cfg.DebugAddr, debugHandler(), logger); err != nil {
			return err
		}
	}
	if cfg.MetricsAddr != "" {
		if err := serveAside(ctx, "metrics server", cfg.MetricsAddr, a.metrics.Handler(), logger); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.HTTP.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	// Stop taking requests first (in-flight ones finish), then let running jobs finish.
	err = srv.Shutdown(shutdownCtx)
	if cfg.Jobs.WorkersEnabled {
		err = errors.Join(err, a.river.Stop(shutdownCtx))
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// work runs the job workers only, until ctx ends.
func work(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	a, err := newApp(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.river.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	logger.InfoContext(ctx, "working jobs", "email_concurrency", cfg.Jobs.EmailConcurrency)
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := a.river.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop workers: %w", err)
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

// serveAside serves h on addr until ctx ends, apart from the API so that what it shows (profiles, metrics) is
// never exposed with it. It logs msg with the address it listens on.
func serveAside(ctx context.Context, msg, addr string, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", msg, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	logger.InfoContext(ctx, msg, "addr", ln.Addr().String())
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}
