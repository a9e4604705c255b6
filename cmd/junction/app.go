package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"riverqueue.com/riverui"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/graph"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/lifecycle"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/metrics"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/tracing"
	"github.com/junction-dev/junction/impl/webhook"
)

// app is the wired program: the pools, the River client and the services over them.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	// tp traces every part that takes it; nil when tracing is off, and then no part adds instrumentation.
	tp   trace.TracerProvider
	pool *pgxpool.Pool
	// session is the pool of direct connections for what holds a session (LISTEN, the migrations' lock): pool
	// itself unless DATABASE_SESSION_URL names another connection.
	session *pgxpool.Pool
	river   *jobs.Client
	svc     *wire.Services
	// metrics counts requests; serve shows them on METRICS_ADDR.
	metrics *metrics.Metrics
	// graphql is the GraphQL endpoint, whose WebSockets serve ends when it stops.
	graphql *graph.Handler
	// draining is set when serve has been told to stop: /readyz answers 503 from then on.
	draining atomic.Bool
}

// newApp connects to the database, migrates it and wires everything, traced by tr. work says whether this
// process works jobs.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger, tr *tracing.Tracing, work bool) (*app, error) {
	pool, session, err := connect(ctx, cfg, logger, sqlTracers(tr))
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, tp: tr.TracerProvider(), pool: pool, session: session}
	if err := a.wire(ctx, work); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// connect opens the pool on DATABASE_URL and, when DATABASE_SESSION_URL names another connection (DATABASE_URL
// goes through a transaction pooler), the small pool of direct connections on it; otherwise session is pool.
func connect(ctx context.Context, cfg config.Config, logger *slog.Logger, tracers []pgx.QueryTracer) (pool, session *pgxpool.Pool, err error) {
	pool, err = postgres.Connect(ctx, cfg.DatabaseURL, cfg.DB, logger, tracers...)
	if err != nil {
		return nil, nil, err
	}
	if !cfg.DB.TransactionPooling {
		return pool, pool, nil
	}
	session, err = postgres.ConnectSession(ctx, cfg.DatabaseSessionURL, cfg.DB, logger)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return pool, session, nil
}

func (a *app) wire(ctx context.Context, work bool) error {
	cfg, logger := a.cfg, a.logger
	if err := postgres.Migrate(ctx, a.session, logger); err != nil {
		return err
	}
	secret := []byte(cfg.JWT.Secret)
	if len(secret) == 0 {
		// Only reachable with APP_ENV=development (config refuses it otherwise).
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("generate development JWT secret: %w", err)
		}
		logger.WarnContext(ctx, "JWT_SECRET is not set: using a generated development secret; tokens will not survive a restart")
	}
	tokens, err := auth.NewTokens(secret, cfg.JWT.Issuer, cfg.JWT.Audience, cfg.JWT.TTL)
	if err != nil {
		return err
	}
	sealer, err := auth.NewSealer(secret)
	if err != nil {
		return err
	}
	templates, err := mail.NewTemplates()
	if err != nil {
		return err
	}
	sender, err := a.mailSender(ctx, work)
	if err != nil {
		return err
	}
	// The workers call the services and the services insert through River's client: the client comes first, and
	// its workers get the services before it starts.
	workerServices := &jobs.Services{}
	a.river, err = jobs.NewClient(a.pool, jobs.Config{
		Work:             work,
		JobsConfig:       cfg.Jobs,
		Templates:        templates,
		Sender:           sender,
		MailDomain:       cfg.MailDomain(),
		BaseURL:          cfg.BaseURL,
		WebhookRetryBase: cfg.Webhooks.RetryBase,
		// The dial-time half of the destination policy: every delivery's connection is checked again on the
		// address actually dialled, whatever the URL resolved to when it was saved.
		WebhookClient:      outbound.NewClient(webhookTargets(cfg), 0, 0, cfg.Webhooks.Concurrency),
		WebhookConcurrency: cfg.Webhooks.Concurrency,
		// a.metrics is built below, after the services it reads, and before any job runs.
		WebhookObserver: observerFunc(func(outcome string, d time.Duration) { a.metrics.ObserveWebhookAttempt(outcome, d) }),
		TracerProvider:  a.tp,
		Open:            sealer.Open,
		Services:        workerServices,
		Listen:          a.session,
		Logger:          logger,
	})
	if err != nil {
		return err
	}
	a.svc = wire.New(wire.Deps{
		Pool:              a.pool,
		Session:           a.session,
		StatementTimeout:  transactionTimeout(cfg.DB),
		Hasher:            password.NewHasher(password.Params(cfg.Argon2)),
		Tokens:            tokens,
		Sealer:            sealer,
		Jobs:              a.river,
		PasswordResetTTL:  cfg.PasswordResetTTL,
		AuthCacheTTL:      cfg.JWT.CacheTTL,
		ListTotalTTL:      cfg.ListTotalTTL,
		IdempotencyKeyTTL: cfg.IdempotencyKeyTTL,
		WebhookTargets:    webhookTargets(cfg),
		WebhookSchedule:   cfg.Webhooks.RetrySchedule,
		Logger:            logger,
	})
	a.metrics = metrics.New(a.pool, a.svc.Ops, logger)
	*workerServices = jobs.Services{
		Billing: a.svc.Billing, Accounts: a.svc.Accounts, Emails: a.svc.Emails, Endpoints: a.svc.Endpoints,
		Idempotency: a.svc.Idempotency,
	}
	return nil
}

// webhookTargets is where outgoing webhooks may go: in production, https to public addresses only.
func webhookTargets(cfg config.Config) outbound.Policy {
	return outbound.Policy{AllowPrivate: cfg.Webhooks.AllowPrivateTargets, RequireHTTPS: !cfg.Webhooks.AllowPrivateTargets}
}

// observerFunc adapts a function to jobs.DeliveryObserver.
type observerFunc func(outcome string, d time.Duration)

func (f observerFunc) ObserveWebhookAttempt(outcome string, d time.Duration) { f(outcome, d) }

// mailSender is the transport MAIL_TRANSPORT chose (config resolves its default from SMTP_URL and APP_ENV).
func (a *app) mailSender(ctx context.Context, work bool) (mail.Sender, error) {
	cfg, logger := a.cfg, a.logger
	switch cfg.Mail.Transport {
	case config.MailSMTP:
		var roots *x509.CertPool // nil: the system's
		if cfg.Mail.CAFile != "" {
			var err error
			if roots, err = mail.CertPool(cfg.Mail.CAFile); err != nil {
				return nil, err
			}
		}
		return mail.NewSMTP(cfg.Mail.SMTPURL, cfg.Mail.From, roots, a.tp)
	case config.MailLog:
		if cfg.Mail.SMTPURL != "" {
			logger.WarnContext(ctx, "MAIL_TRANSPORT=log: SMTP_URL is set but not used")
		}
		logger.InfoContext(ctx, "emails go to the log and the sent_emails table, their secrets redacted: password resets cannot be completed; set SMTP_URL to send them")
		// The log transport keeps emails through the emails service, which is built after the River client that
		// this sender belongs to.
		return mail.NewLog(logger, func(ctx context.Context, m mail.Message) error {
			return a.svc.Emails.RecordSent(ctx, service.SentEmail{
				JobID: m.JobID, MessageID: m.MessageID, Type: service.EmailKind(m.Type), To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			})
		}), nil
	default:
		// No transport (production without SMTP_URL): serve and worker refuse to start before here; a command
		// that works no jobs (grant-admin) sends no email and needs none.
		if work {
			return nil, cfg.RequireMailTransport()
		}
		return nil, nil
	}
}

// handler is the HTTP surface, River UI and GraphQL included, and the components it needs running: River UI's
// background services. The subscription broker hears events from the services' listener, which serve starts.
func (a *app) handler(ctx context.Context) (http.Handler, []lifecycle.Named, error) {
	// One set of limits for every entrance: an action costs the same whichever transport it comes through.
	store, storeParts, err := a.rateLimitStore()
	if err != nil {
		return nil, nil, err
	}
	limits := ratelimit.New(a.cfg.RateLimit, store)
	gqlServices := graph.Services{Accounts: a.svc.Accounts, Users: a.svc.Users, Posts: a.svc.Posts, Comments: a.svc.Comments, Idempotency: a.svc.Idempotency}
	broker := graph.NewBroker(gqlServices, a.logger)
	a.svc.Listener.Handle(broker.Handle)
	a.graphql = graph.NewHandler(gqlServices, broker, graph.Options{
		Introspection:    a.cfg.GraphQL.Introspection,
		MaxDepth:         a.cfg.GraphQL.MaxDepth,
		MaxComplexity:    a.cfg.GraphQL.MaxComplexity,
		MaxResponseBytes: a.cfg.GraphQL.MaxResponseBytes,
		BodyLimit:        a.cfg.GraphQL.BodyLimit,
		LoaderWait:       a.cfg.GraphQL.LoaderWait,
		Limits:           limits,
		Development:      a.cfg.Development(),
		Logger:           a.logger,
		TracerProvider:   a.tp,
		WebSocket: graph.WebSocketOptions{
			MaxConnections:      a.cfg.WebSocket.MaxConnections,
			MaxConnectionsPerIP: a.cfg.WebSocket.MaxConnectionsPerIP,
			MaxSubscriptions:    a.cfg.WebSocket.MaxSubscriptions,
			MessageRate:         a.cfg.WebSocket.MessageRate,
		},
	})
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.river.Client, nil),
		Logger:    a.logger,
		Prefix:    httpapi.AdminJobsPath,
		// Args can hold secrets (a password-reset token): shown only on request.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("river ui: %w", err)
	}
	// River UI's background services run until the context they started with ends.
	var stopUI context.CancelFunc = func() {}
	uiComponent := lifecycle.Named{Name: "river ui", Component: lifecycle.Funcs{
		StartFunc: func(ctx context.Context) error {
			ctx, stopUI = context.WithCancel(ctx)
			return ui.Start(ctx)
		},
		StopFunc: func(context.Context) error { stopUI(); return nil },
	}}
	if len(a.cfg.Webhooks.StripeSecrets) == 0 {
		a.logger.WarnContext(ctx, "STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook delivery will be refused")
	}
	h, err := httpapi.NewHandler(httpapi.Services{
		Accounts: a.svc.Accounts, Users: a.svc.Users, Posts: a.svc.Posts, Comments: a.svc.Comments,
		Billing: a.svc.Billing, Endpoints: a.svc.Endpoints, Ops: a.svc.Ops, Idempotency: a.svc.Idempotency,
	}, httpapi.Options{
		Development:    a.cfg.Development(),
		Logger:         a.logger,
		Limits:         limits,
		TrustedProxies: a.cfg.RateLimit.TrustedProxies,
		CORSOrigins:    a.cfg.CORSOrigins,
		RequestTimeout: a.cfg.HTTP.RequestTimeout,
		MaxConcurrent:  a.cfg.HTTP.MaxConcurrent,
		StripeVerifier: webhook.NewVerifier(a.cfg.Webhooks.StripeSecrets, a.cfg.Webhooks.Tolerance, time.Now),
		AdminJobs:      ui,
		GraphQL:        a.graphql,
		Metrics:        a.metrics,
		Draining:       a.draining.Load,
		TracerProvider: a.tp,
		Propagator:     tracing.Propagator(),
	})
	if err != nil {
		return nil, nil, err
	}
	return h, append(storeParts, uiComponent), nil
}

// rateLimitStore is where the limits are counted: with REDIS_URL in Redis, shared by every instance, with this
// instance's memory to fall back on while Redis does not answer; without it in this instance's memory alone. The
// Redis store is a component (it probes Redis during an outage), started before the API server takes requests.
func (a *app) rateLimitStore() (ratelimit.Store, []lifecycle.Named, error) {
	local := ratelimit.NewMemory(rateLimitKeys, time.Now)
	if a.cfg.Redis.URL == "" {
		return local, nil, nil
	}
	// go-redis logs some failures itself (each failed dial), to stderr and process-wide: at debug level here,
	// since the store logs each switch once.
	redis.SetLogger(redisLog{a.logger})
	store, err := ratelimit.NewRedis(ratelimit.RedisConfig{
		URL: a.cfg.Redis.URL, Timeout: a.cfg.Redis.Timeout, Fallback: local, Observer: a.metrics, Logger: a.logger,
	})
	if err != nil {
		return nil, nil, err
	}
	return store, []lifecycle.Named{{Name: "rate-limit store", Component: store}}, nil
}

// redisLog is go-redis's logger, at debug level.
type redisLog struct{ logger *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// rateLimitKeys bounds the in-process limiter's memory (about 120 bytes a key, 31 MB in all, measured): clients
// and accounts seen within one window.
const rateLimitKeys = 1 << 18

func (a *app) close() {
	if a.session != a.pool {
		a.session.Close()
	}
	a.pool.Close()
}

// transactionTimeout is the statement timeout the services' transactions set themselves: through a transaction
// pooler, whose connections carry none; a direct connection has it from its startup (postgres.Connect), and a
// SET LOCAL in every BEGIN would only repeat it.
func transactionTimeout(db config.DBConfig) time.Duration {
	if db.TransactionPooling {
		return db.StatementTimeout
	}
	return 0
}

// sqlTracers are the pool's tracers besides its error log: a span per statement when tracing is on, none off.
func sqlTracers(tr *tracing.Tracing) []pgx.QueryTracer {
	if tp := tr.TracerProvider(); tp != nil {
		return []pgx.QueryTracer{postgres.Tracer(tp)}
	}
	return nil
}
