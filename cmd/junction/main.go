// Command junction is Junction's one binary:
//
//	junction migrate   apply every pending database migration and exit
//	junction serve     migrate, then serve the HTTP API on $PORT until SIGINT or SIGTERM
//
// Settings come from the environment; see the README for the full table.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "junction:", err)
		os.Exit(1)
	}
}

const usage = "usage: junction migrate|serve"

// run is the whole program, with its inputs passed in so that tests can start it on port 0 with their own
// environment. It returns when the command is done or ctx is cancelled (serve shuts down gracefully then).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New(usage)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel)

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
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, cfg.DB, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, logger); err != nil {
		return err
	}

	handler, err := newHandler(ctx, pool, cfg, logger)
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
	port := ln.Addr().(*net.TCPAddr).Port
	logger.InfoContext(ctx, "serving",
		"addr", ln.Addr().String(),
		"api", fmt.Sprintf("http://localhost:%d/api/users", port),
		"docs", fmt.Sprintf("http://localhost:%d/docs", port),
		"env", cfg.Env)

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
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func newHandler(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, logger *slog.Logger) (http.Handler, error) {
	secret := []byte(cfg.JWT.Secret)
	if len(secret) == 0 {
		// Only reachable with APP_ENV=development (config refuses it otherwise).
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("generate development JWT secret: %w", err)
		}
		logger.WarnContext(ctx, "JWT_SECRET is not set: using a generated development secret; tokens will not survive a restart")
	}
	tokens, err := auth.NewTokens(secret, cfg.JWT.Issuer, cfg.JWT.Audience, cfg.JWT.TTL)
	if err != nil {
		return nil, err
	}
	svc := service.New(service.Deps{
		Pool:   pool,
		Hasher: password.NewHasher(password.Params(cfg.Argon2)),
		Tokens: tokens,
		Logger: logger,
	})
	return httpapi.NewHandler(svc, httpapi.Options{Development: cfg.Development(), Logger: logger, RateLimit: cfg.RateLimit})
}
