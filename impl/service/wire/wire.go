// Package wire builds the business layer: one shared core and every service over it, with the caches they share.
// cmd/junction and the tests build it the same way, so that no caller assembles the services by hand.
package wire

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/lifecycle"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/accounts"
	"github.com/junction-dev/junction/impl/service/billing"
	"github.com/junction-dev/junction/impl/service/comments"
	"github.com/junction-dev/junction/impl/service/emails"
	"github.com/junction-dev/junction/impl/service/endpoints"
	"github.com/junction-dev/junction/impl/service/idempotency"
	"github.com/junction-dev/junction/impl/service/internal/authcache"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/service/internal/totals"
	"github.com/junction-dev/junction/impl/service/listener"
	"github.com/junction-dev/junction/impl/service/ops"
	"github.com/junction-dev/junction/impl/service/posts"
	"github.com/junction-dev/junction/impl/service/users"
)

// Deps are what the services need.
type Deps struct {
	Pool *pgxpool.Pool
	// Session is a pool of direct connections (DATABASE_SESSION_URL) that the listener connects as, since LISTEN
	// needs a session of its own and Pool may go through a transaction pooler; nil is Pool.
	Session *pgxpool.Pool
	// StatementTimeout bounds each statement of the services' transactions (SET LOCAL, which holds through a
	// transaction pooler too); 0 leaves them the connection's limit.
	StatementTimeout time.Duration
	Hasher           *password.Hasher
	Tokens           *auth.Tokens
	// Sealer encrypts secrets that travel in job args.
	Sealer *auth.Sealer
	// Jobs inserts background jobs in the same transaction as the writes that cause them.
	Jobs service.JobInserter
	// PasswordResetTTL is how long a password-reset token stays usable.
	PasswordResetTTL time.Duration
	// AuthCacheTTL is how long a token's user (that they exist, their role) is remembered; 0 remembers nothing.
	// The cache is used only while the Listener runs: every instance hears of a deletion or a role change at once.
	AuthCacheTTL time.Duration
	// ListTotalTTL is how long a list's total is remembered; 0 counts on every request. This instance's writes
	// forget the totals they change at once, other instances' writes as soon as the Listener hears of them (and,
	// while it is down, within twice ListTotalTTL).
	ListTotalTTL time.Duration
	// WebhookTargets says which destinations webhook endpoints may name (impl/outbound): production refuses
	// private and loopback ones and plain http.
	WebhookTargets outbound.Policy
	// WebhookSchedule is the delays between a webhook delivery's attempts.
	WebhookSchedule retry.Schedule
	// IdempotencyKeyTTL is how long the answer of a request made with an Idempotency-Key is replayed; 0 is a day.
	IdempotencyKeyTTL time.Duration
	// Now is the clock of the rules that span days (an endpoint disabled after 5 days of failures); nil is
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Services is the business layer. Listener and Billing have a lifecycle (Start, Stop); Components lists them in
// the order to start them.
type Services struct {
	Accounts *accounts.Service
	Users    *users.Service
	Posts    *posts.Service
	Comments *comments.Service
	Billing  *billing.Service
	Emails   *emails.Service
	Ops      *ops.Service
	Listener *listener.Listener
	// Endpoints are where outgoing webhooks go, and their deliveries.
	Endpoints *endpoints.Service
	// Idempotency stores and replays the answers of requests made with an Idempotency-Key.
	Idempotency *idempotency.Service
}

// authCacheMaxEntries bounds the authentication cache: about 100 bytes an entry.
const authCacheMaxEntries = 100_000

// totalsMaxEntries bounds the totals cache: one entry per distinct filter (a search term, a viewer's drafts).
const totalsMaxEntries = 10_000

// New builds every service over d.
func New(d Deps) *Services {
	c := core.New(d.Pool, d.Jobs, apimodel.EncodeWebhook, d.Logger)
	c.StatementTimeout = d.StatementTimeout
	session := cmp.Or(d.Session, d.Pool)
	sessions := authcache.New(d.AuthCacheTTL, authCacheMaxEntries)
	counts := totals.New(d.ListTotalTTL, totalsMaxEntries, time.Now)
	p := posts.New(c, counts)
	return &Services{
		Accounts: accounts.New(c, accounts.Deps{
			Hasher: d.Hasher, Tokens: d.Tokens, Sealer: d.Sealer, PasswordResetTTL: d.PasswordResetTTL, Cache: sessions,
		}),
		Users:    users.New(c, d.Hasher, sessions, counts),
		Posts:    p,
		Comments: comments.New(c, p),
		Billing:  billing.New(c),
		Emails:   emails.New(c),
		Ops:      ops.New(c),
		Listener: listener.New(session, sessions, counts, d.Logger),
		Endpoints: endpoints.New(c, endpoints.Deps{
			Sealer: d.Sealer,
			CheckURL: func(ctx context.Context, url string) error {
				return outbound.CheckURL(ctx, url, d.WebhookTargets, nil)
			},
			Schedule: d.WebhookSchedule, Now: d.Now,
		}),
		Idempotency: idempotency.New(c, cmp.Or(d.IdempotencyKeyTTL, 24*time.Hour)),
	}
}

// Components are the business layer's background parts in the order to start them: the listener first, so that
// the authentication cache is trusted and subscribers hear every change before requests arrive; then the webhook
// intake. Their owner stops them in reverse, after the HTTP server has drained, so that every delivery taken is
// stored before the listener and the pool go.
func (s *Services) Components() []lifecycle.Named {
	return []lifecycle.Named{
		{Name: "event listener", Component: s.Listener},
		{Name: "webhook intake", Component: s.Billing},
	}
}
