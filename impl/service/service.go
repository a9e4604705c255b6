package service

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/password"
)

// Service is the business layer. It is safe for concurrent use.
type Service struct {
	pool     *pgxpool.Pool
	queries  *db.Queries
	hasher   *password.Hasher
	tokens   *auth.Tokens
	sealer   *auth.Sealer
	jobs     JobInserter
	resetTTL time.Duration
	logger   *slog.Logger
	// authCache spares authenticated requests a query; Listen keeps it coherent across instances.
	authCache *authCache
	// totals remembers list totals briefly (see totals).
	totals *totals
	// intake stores webhook deliveries, batching those that arrive together.
	intake *intake
}

// Deps are what a Service needs.
type Deps struct {
	Pool   *pgxpool.Pool
	Hasher *password.Hasher
	Tokens *auth.Tokens
	// Sealer encrypts secrets that travel in job args.
	Sealer *auth.Sealer
	// Jobs inserts background jobs in the same transaction as the writes that cause them.
	Jobs JobInserter
	// PasswordResetTTL is how long a password-reset token stays usable.
	PasswordResetTTL time.Duration
	// AuthCacheTTL is how long a token's user (that they exist, their role) is remembered; 0 remembers nothing.
	// The cache is used only while Listen runs: every instance hears of a deletion or a role change at once.
	AuthCacheTTL time.Duration
	// ListTotalTTL is how long a list's total is remembered; 0 counts on every request. This instance's writes
	// forget the totals they change; other instances' writes show within ListTotalTTL.
	ListTotalTTL time.Duration
	Logger       *slog.Logger
}

// authCacheMaxEntries bounds the authentication cache: about 100 bytes an entry.
const authCacheMaxEntries = 100_000

// totalsMaxEntries bounds the totals cache: one entry per distinct filter (a search term, a viewer's drafts).
const totalsMaxEntries = 10_000

// New returns a Service over d.
func New(d Deps) *Service {
	s := &Service{
		pool: d.Pool, queries: db.New(), hasher: d.Hasher, tokens: d.Tokens, sealer: d.Sealer, jobs: d.Jobs,
		resetTTL: cmp.Or(d.PasswordResetTTL, 30*time.Minute), logger: d.Logger,
		authCache: newAuthCache(d.AuthCacheTTL, authCacheMaxEntries),
		totals:    newTotals(d.ListTotalTTL, totalsMaxEntries),
	}
	s.intake = &intake{store: s.storeDeliveries}
	return s
}

// Ready reports whether the database answers, for readiness probes: EUNAVAILABLE when it does not.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness: database ping failed", "err", err)
		return &Error{Code: EUNAVAILABLE, Message: "The database is not reachable."}
	}
	return nil
}
