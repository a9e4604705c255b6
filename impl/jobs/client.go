package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/service"
)

// Config sets up the River client.
type Config struct {
	// Work says whether this process works jobs; without it the client only inserts.
	Work bool
	// JobsConfig holds the settings from the environment (its WorkersEnabled is the caller's to turn into Work).
	// EmailRetryBase is the first retry delay of an email, later ones double; JobTimeout bounds one attempt;
	// RescueStuckAfter returns a job whose worker vanished (a crash) to the queue; FetchCooldown is the least
	// time between two fetches of a queue, which bounds its throughput as a queue works at most its workers'
	// count of jobs per fetch (River's default, 100 ms, caps 100 workers at 1,000/s).
	config.JobsConfig

	// WebhookRetryBase is the first retry delay of webhook processing.
	WebhookRetryBase time.Duration

	// WebhookClient sends outgoing webhooks (impl/outbound.NewClient: the destination policy, its timeouts);
	// WebhookConcurrency is how many at once; WebhookObserver counts and times their attempts.
	WebhookClient      *http.Client
	WebhookConcurrency int
	WebhookObserver    DeliveryObserver

	// Services are what the workers call; see [Services].
	Services *Services

	// Listen is a pool of direct connections (DATABASE_SESSION_URL) for River's LISTEN, when the client's pool
	// goes through a transaction pooler; nil listens on the client's pool.
	Listen *pgxpool.Pool
	// TracerProvider, when set, traces inserts and work (River's OpenTelemetry middleware, the work a child of the
	// inserting span) and outgoing webhook attempts (with a traceparent for their receiver); an email's send is
	// the Sender's span (mail.NewSMTP takes the provider too). nil adds no middleware and makes no spans.
	TracerProvider trace.TracerProvider

	// Open decrypts the secrets that the service sealed into job args (auth.Sealer.Open).
	Open func(sealed string) (string, error)

	Templates *mail.Templates
	Sender    mail.Sender
	// MailDomain goes into Message-IDs; BaseURL into links.
	MailDomain string
	BaseURL    string
	Logger     *slog.Logger
}

// Services are what the workers call: they reach data only through these. The services insert their jobs through
// the client NewClient returns, so one of the two is built first: a working client's Services must be filled in
// before it starts, and an insert-only client needs none.
type Services struct {
	Billing     Billing
	Accounts    Accounts
	Emails      Emails
	Endpoints   Endpoints
	Idempotency Idempotency
}

// Idempotency deletes expired keys (the idempotency service).
type Idempotency interface {
	Prune(ctx context.Context) (int64, error)
}

// Billing applies stored webhook events (the billing service).
type Billing interface {
	Process(ctx context.Context, id uuid.UUID) error
}

// Accounts does the work of password-reset requests (the accounts service).
type Accounts interface {
	SendPasswordReset(ctx context.Context, email string) error
}

// Emails records which jobs' messages a mail server accepted (the emails service).
type Emails interface {
	Delivered(ctx context.Context, jobID int64) (bool, error)
	RecordDelivery(ctx context.Context, jobID int64, messageID string) error
}

// Client is River's client with Junction's workers registered. It inserts jobs as River's does; Start refuses to
// work them before the workers' services are set, rather than failing every job.
type Client struct {
	*river.Client[pgx.Tx]
	svcs *Services
	work bool
}

// Start works the queues (with Config.Work) until Stop. Config.Services must be complete by then.
func (c *Client) Start(ctx context.Context) error {
	if c.work && (c.svcs.Billing == nil || c.svcs.Accounts == nil || c.svcs.Emails == nil || c.svcs.Endpoints == nil ||
		c.svcs.Idempotency == nil) {
		return errors.New("jobs: the workers' services (Config.Services) are not set")
	}
	return c.Client.Start(ctx)
}

// NewClient returns a Client with every worker registered. It works the queues only with cfg.Work.
func NewClient(pool *pgxpool.Pool, cfg Config) (*Client, error) {
	svcs := cfg.Services
	if svcs == nil {
		svcs = &Services{}
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &EmailWorker{
		templates: cfg.Templates, sender: cfg.Sender, domain: cfg.MailDomain, baseURL: cfg.BaseURL, backoff: cfg.EmailRetryBase,
		open: cfg.Open, svcs: svcs, logger: cfg.Logger,
	}); err != nil {
		return nil, fmt.Errorf("jobs: register email worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &WebhookWorker{svcs: svcs, backoff: cfg.WebhookRetryBase}); err != nil {
		return nil, fmt.Errorf("jobs: register webhook worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &PasswordResetWorker{svcs: svcs, backoff: cfg.EmailRetryBase}); err != nil {
		return nil, fmt.Errorf("jobs: register password reset worker: %w", err)
	}
	observer := cfg.WebhookObserver
	if observer == nil {
		observer = noObserver{}
	}
	hc := cfg.WebhookClient
	if hc == nil {
		hc = outbound.NewClient(outbound.Policy{RequireHTTPS: true}, 0, 0, cfg.WebhookConcurrency)
	}
	out := newSender(hc, observer, cfg.WebhookConcurrency, cfg.TracerProvider)
	for _, add := range []func() error{
		func() error { return river.AddWorkerSafely(workers, &FanOutWorker{svcs: svcs, sender: out}) },
		func() error { return river.AddWorkerSafely(workers, &DeliveryWorker{svcs: svcs, sender: out}) },
		func() error { return river.AddWorkerSafely(workers, &RecoverWorker{svcs: svcs, sender: out}) },
		func() error {
			// The services are set after the workers are registered (jobs.Client.Start checks): read them at work.
			return river.AddWorkerSafely(workers, &pruneWorker[service.WebhookPruneArgs]{
				prune: func(ctx context.Context) (int64, error) { return svcs.Endpoints.Prune(ctx) },
			})
		},
		func() error {
			return river.AddWorkerSafely(workers, &pruneWorker[service.IdempotencyPruneArgs]{
				prune: func(ctx context.Context) (int64, error) { return svcs.Idempotency.Prune(ctx) },
			})
		},
	} {
		if err := add(); err != nil {
			return nil, fmt.Errorf("jobs: register outgoing webhook worker: %w", err)
		}
	}
	rc := &river.Config{
		Logger:                      cfg.Logger,
		Workers:                     workers,
		Middleware:                  []rivertype.Middleware{&logMiddleware{logger: cfg.Logger}},
		CompletedJobRetentionPeriod: cfg.CompletedRetention,
		DiscardedJobRetentionPeriod: cfg.DiscardedRetention,
		CancelledJobRetentionPeriod: cfg.DiscardedRetention,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueStuckAfter,
	}
	if cfg.TracerProvider != nil {
		// Outside the log middleware, so that a job's outcome line is written in its span, with its trace id.
		rc.Middleware = append(tracingMiddleware(cfg.TracerProvider), rc.Middleware...)
	}
	if cfg.Work {
		rc.Queues = map[string]river.QueueConfig{
			river.QueueDefault:   {MaxWorkers: 10, FetchCooldown: cfg.FetchCooldown},
			service.EmailQueue:   {MaxWorkers: cfg.EmailConcurrency, FetchCooldown: cfg.FetchCooldown},
			service.WebhookQueue: {MaxWorkers: max(cfg.WebhookConcurrency, 1), FetchCooldown: cfg.FetchCooldown},
		}
		// Every worker process schedules the prunes; River's leader inserts each once an hour for all of them.
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return service.WebhookPruneArgs{}, nil }, nil),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return service.IdempotencyPruneArgs{}, nil }, nil),
		}
	}
	client, err := river.NewClient(newDriver(pool, cfg.Listen), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return &Client{Client: client, svcs: svcs, work: cfg.Work}, nil
}

// noObserver observes nothing, for a client built without metrics.
type noObserver struct{}

func (noObserver) ObserveWebhookAttempt(string, time.Duration) {}
