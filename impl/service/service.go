package service

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/password"
)

// Service is the business layer. It is safe for concurrent use.
type Service struct {
	pool    *pgxpool.Pool
	queries *db.Queries
	hasher  *password.Hasher
	logger  *slog.Logger
}

// New returns a Service on pool that hashes passwords with hasher.
func New(pool *pgxpool.Pool, hasher *password.Hasher, logger *slog.Logger) *Service {
	return &Service{pool: pool, queries: db.New(), hasher: hasher, logger: logger}
}

// Ready reports whether the database answers, for readiness probes: EUNAVAILABLE when it does not.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness: database ping failed", "err", err)
		return &Error{Code: EUNAVAILABLE, Message: "The database is not reachable."}
	}
	return nil
}
