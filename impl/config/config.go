// Package config reads Junction's settings from the environment, once, into one [Config].
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/junction-dev/junction/impl/retry"
)

// Config is every setting of the service. Each field comes from one environment variable, documented in the README.
type Config struct {
	// Env is APP_ENV: "development" shows internal error details in 500 responses; anything else hides them.
	Env      string
	Port     int
	LogLevel string

	DatabaseURL string
	// DatabaseSessionURL (DATABASE_SESSION_URL, by default DATABASE_URL) is a direct connection for what holds a
	// session: the event listener's and River's LISTEN, and the migrations' advisory lock. A transaction pooler
	// (PgBouncer's pool_mode=transaction) gives each transaction whichever server connection is free, so none of
	// these works through it.
	DatabaseSessionURL string
	DB                 DBConfig

	Argon2 Argon2Config

	HTTP HTTPConfig

	JWT JWTConfig

	RateLimit RateLimitConfig

	Redis RedisConfig

	Jobs JobsConfig
	Mail MailConfig

	// BaseURL is where the service is reached, for links in emails.
	BaseURL string
	// PasswordResetTTL is how long a password-reset token stays usable.
	PasswordResetTTL time.Duration
	// ListTotalTTL (LIST_TOTAL_CACHE_TTL) is how long an instance remembers a list's total; 0 counts every time.
	ListTotalTTL time.Duration
	// IdempotencyKeyTTL (IDEMPOTENCY_KEY_TTL) is how long the answer of a request made with an Idempotency-Key
	// is replayed to its retries.
	IdempotencyKeyTTL time.Duration

	Webhooks WebhooksConfig

	GraphQL GraphQLConfig

	WebSocket WebSocketConfig

	// CORSOrigins may call the API from browsers on other origins (CORS_ALLOWED_ORIGINS, comma-separated).
	CORSOrigins []string

	// DebugAddr, when set (e.g. 127.0.0.1:6060), serves /debug/pprof there, apart from the API.
	DebugAddr string
	// MetricsAddr, when set (e.g. 127.0.0.1:9090), serves /metrics there, apart from the API.
	MetricsAddr string

	// Tracing exports OpenTelemetry spans when an OTLP endpoint is set (tracing.go).
	Tracing TracingConfig
}

// GraphQLConfig bounds the GraphQL endpoint.
type GraphQLConfig struct {
	Introspection bool
	MaxDepth      int
	// MaxComplexity (GRAPHQL_MAX_COMPLEXITY) is the most an operation may cost, priced before it runs from its
	// text and arguments: a list multiplies its selection by its page size (schema.graphqls says how). The default,
	// 50,000, is three times what users(limit: 20) { edges { node { posts { comments { author { id } } } } } }
	// costs (16,461) and a fiftieth of 20 aliases of users(limit: 100) with their posts' comments.
	MaxComplexity int
	// MaxResponseBytes (GRAPHQL_MAX_RESPONSE_BYTES) cuts an answer once its values pass it, as they resolve: what
	// the cost misses, such as many 50,000-character contents.
	MaxResponseBytes int64
	BodyLimit        int64
	LoaderWait       time.Duration
}

// WebSocketConfig caps the GraphQL WebSockets, which hold no request slot (MAX_CONCURRENT_REQUESTS) and no request
// deadline, since they live as long as their client. 0 turns a cap off.
type WebSocketConfig struct {
	// MaxConnections (WS_MAX_CONNECTIONS) caps the sockets open at once on an instance.
	MaxConnections int
	// MaxConnectionsPerIP (WS_MAX_CONNECTIONS_PER_IP) caps the sockets one client IP has open at once.
	MaxConnectionsPerIP int
	// MaxSubscriptions (WS_MAX_SUBSCRIPTIONS) caps the subscriptions active at once on one socket.
	MaxSubscriptions int
	// MessageRate (WS_MESSAGE_RATE) is how many messages a second one socket may send (burst: twice as many).
	MessageRate int
}

// WebhooksConfig verifies and processes incoming webhooks.
type WebhooksConfig struct {
	// StripeSecrets are the signing secrets accepted at once (rotation), from comma-separated STRIPE_WEBHOOK_SECRET.
	StripeSecrets []string
	// Tolerance is how far a signature's timestamp may be from now, either way.
	Tolerance time.Duration
	// RetryBase is the first retry delay of a failed processing job.
	RetryBase time.Duration
	// AllowPrivateTargets lets outgoing webhook endpoints name loopback and private addresses, and plain http
	// (WEBHOOK_ALLOW_PRIVATE_TARGETS; on by default in development only, for local receivers).
	AllowPrivateTargets bool
	// RetrySchedule is the delays between an outgoing delivery's attempts (WEBHOOK_RETRY_SCHEDULE: Go durations,
	// comma-separated; Svix's 5s,5m,30m,2h,5h,10h,10h by default, each ±20%).
	RetrySchedule retry.Schedule
	// Concurrency (WEBHOOK_CONCURRENCY) is how many deliveries one worker process sends at once.
	Concurrency int
}

// JobsConfig sets up River.
type JobsConfig struct {
	// WorkersEnabled lets `serve` work jobs too; turn it off to scale API and `junction worker` processes apart.
	WorkersEnabled     bool
	EmailConcurrency   int
	EmailRetryBase     time.Duration
	CompletedRetention time.Duration
	DiscardedRetention time.Duration
	JobTimeout         time.Duration
	RescueStuckAfter   time.Duration
	// FetchCooldown (JOB_FETCH_COOLDOWN) is the least time between two fetches of a queue.
	FetchCooldown time.Duration
}

// The email transports (MAIL_TRANSPORT).
const (
	MailSMTP = "smtp"
	// MailLog logs each email's envelope and keeps the email in the sent_emails table, its secrets redacted:
	// every flow works without a mail server except a password reset, whose token it never delivers.
	MailLog = "log"
)

// MailConfig chooses the email transport.
type MailConfig struct {
	// Transport is MailSMTP or MailLog, from MAIL_TRANSPORT; by default smtp when SMTP_URL is set, log in
	// development without it, and none in production without it: [Config.RequireMailTransport] refuses that,
	// because a production that silently logged its emails would never deliver a password reset.
	Transport string
	// SMTPURL is where the smtp transport sends.
	SMTPURL string
	// CAFile (SMTP_CA_FILE) is a PEM bundle of authorities trusted besides the system's, for a server whose
	// certificate a private authority signed.
	CAFile string
	From   string
}

// JWTConfig signs and checks bearer tokens.
type JWTConfig struct {
	// Secret is JWT_SECRET. Empty only in development, where the server generates one at start-up.
	Secret   string
	Issuer   string
	Audience string
	TTL      time.Duration
	// CacheTTL (AUTH_CACHE_TTL) is how long an instance remembers a token's user; deletions and role changes
	// reach every instance at once regardless. 0 reads the user on every request.
	CacheTTL time.Duration
}

// RateLimitConfig holds the requests allowed per Window for each action (impl/ratelimit), per client IP and, for
// sign-in and password resets, per account too; 0 turns a limit off.
type RateLimitConfig struct {
	Window        time.Duration
	Default       int
	ListUsers     int
	SignUp        int
	Login         int
	PasswordReset int
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed when finding the client's IP.
	TrustedProxies []netip.Prefix
}

// RedisConfig is the Redis that every instance keeps its rate limits in (impl/ratelimit), so that N instances
// together allow what one would. Without a URL each instance limits on its own, in its memory.
type RedisConfig struct {
	// URL is REDIS_URL: redis://[user:password@]host:port[/db], rediss:// (TLS) or unix:///path.
	URL string
	// Timeout (REDIS_TIMEOUT) bounds connecting and each command: how long a request can wait on a Redis that
	// stopped answering before its instance falls back to its own limits.
	Timeout time.Duration
}

// DBConfig sizes the pgx pool and bounds how long start-up waits for the database.
type DBConfig struct {
	MaxConns        int32
	MinConns        int32
	MaxConnIdleTime time.Duration
	MaxConnLifetime time.Duration
	ConnectTimeout  time.Duration
	// StatementTimeout bounds every statement the service runs (migrations excepted); 0 means none.
	StatementTimeout time.Duration
	// WaitTimeout is how long start-up retries an unreachable database (with exponential backoff) before giving up.
	WaitTimeout time.Duration
	// TransactionPooling says that the pool's connections go through a transaction pooler, so that they can keep
	// no session state: no named prepared statements, no statement_timeout as a startup parameter (PgBouncer
	// refuses one it does not know). Load sets it when DATABASE_SESSION_URL names another connection than
	// DATABASE_URL, which is what a separate session connection is for.
	TransactionPooling bool
}

// Argon2Config are the argon2id cost parameters for password hashes.
type Argon2Config struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// HTTPConfig bounds the HTTP server.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	// DrainDelay is how long a stopping server keeps serving with /readyz at 503, before it stops taking
	// connections: long enough for a load balancer's health checks to take it out.
	DrainDelay time.Duration
	// RequestTimeout is the deadline of each request's context (WebSockets excepted).
	RequestTimeout time.Duration
	// MaxConcurrent caps the requests served at once; more are answered 503 at once.
	MaxConcurrent int
}

// MailDomain is the domain of MAIL_FROM, for Message-IDs.
func (c Config) MailDomain() string {
	addr, err := mail.ParseAddress(c.Mail.From)
	if err != nil {
		return "localhost"
	}
	_, domain, _ := strings.Cut(addr.Address, "@")
	return domain
}

// Development reports whether APP_ENV=development.
func (c Config) Development() bool { return c.Env == "development" }

// Load parses the configuration from getenv, applying defaults for unset variables. Every malformed value is
// reported, not just the first.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Env:         p.str("APP_ENV", "production"),
		Port:        p.int("PORT", 8080),
		LogLevel:    p.str("LOG_LEVEL", "info"),
		DatabaseURL: p.str("DATABASE_URL", ""),
		DB: DBConfig{
			MaxConns:         int32(p.int("DB_MAX_CONNS", 20)),
			MinConns:         int32(p.int("DB_MIN_CONNS", 5)),
			MaxConnIdleTime:  p.duration("DB_MAX_CONN_IDLE_TIME", 30*time.Second),
			MaxConnLifetime:  p.duration("DB_MAX_CONN_LIFETIME", time.Hour),
			ConnectTimeout:   p.duration("DB_CONNECT_TIMEOUT", 2*time.Second),
			WaitTimeout:      p.duration("DB_WAIT_TIMEOUT", 30*time.Second),
			StatementTimeout: p.duration("DB_STATEMENT_TIMEOUT", 10*time.Second),
		},
		// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
		Argon2: Argon2Config{
			MemoryKiB:   uint32(p.int("ARGON2_MEMORY_KIB", 19*1024)),
			Iterations:  uint32(p.int("ARGON2_ITERATIONS", 2)),
			Parallelism: uint8(p.intIn("ARGON2_PARALLELISM", 1, 1, 255)),
		},
		HTTP: HTTPConfig{
			ReadHeaderTimeout: p.duration("HTTP_READ_HEADER_TIMEOUT", 5*time.Second),
			ReadTimeout:       p.duration("HTTP_READ_TIMEOUT", 15*time.Second),
			WriteTimeout:      p.duration("HTTP_WRITE_TIMEOUT", 30*time.Second),
			IdleTimeout:       p.duration("HTTP_IDLE_TIMEOUT", 2*time.Minute),
			ShutdownTimeout:   p.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
			DrainDelay:        p.duration("SHUTDOWN_DRAIN_DELAY", 0),
			RequestTimeout:    p.duration("REQUEST_TIMEOUT", 15*time.Second),
			MaxConcurrent:     p.int("MAX_CONCURRENT_REQUESTS", 1000),
		},
	}
	c.DatabaseSessionURL = p.str("DATABASE_SESSION_URL", c.DatabaseURL)
	c.DB.TransactionPooling = c.DatabaseSessionURL != c.DatabaseURL
	c.JWT = JWTConfig{
		Secret:   p.str("JWT_SECRET", ""),
		Issuer:   p.str("JWT_ISSUER", "junction"),
		Audience: p.str("JWT_AUDIENCE", "junction-api"),
		TTL:      p.duration("JWT_TTL", time.Hour),
		CacheTTL: p.duration("AUTH_CACHE_TTL", 10*time.Second),
	}
	c.RateLimit = RateLimitConfig{
		Window:         p.duration("RATE_LIMIT_WINDOW", time.Minute),
		Default:        p.int("RATE_LIMIT_DEFAULT", 300),
		ListUsers:      p.int("RATE_LIMIT_LIST_USERS", 100),
		SignUp:         p.int("RATE_LIMIT_SIGNUP", 10),
		Login:          p.int("RATE_LIMIT_LOGIN", 10),
		PasswordReset:  p.int("RATE_LIMIT_PASSWORD_RESET", 10),
		TrustedProxies: p.prefixes("TRUSTED_PROXIES"),
	}
	c.Redis = RedisConfig{
		URL:     p.str("REDIS_URL", ""),
		Timeout: p.duration("REDIS_TIMEOUT", 100*time.Millisecond),
	}
	c.Jobs = JobsConfig{
		WorkersEnabled:     p.bool("WORKERS_ENABLED", true),
		EmailConcurrency:   p.int("EMAIL_CONCURRENCY", 5),
		EmailRetryBase:     p.duration("EMAIL_RETRY_BASE", 2*time.Second),
		CompletedRetention: p.duration("JOB_COMPLETED_RETENTION", 24*time.Hour),
		DiscardedRetention: p.duration("JOB_DISCARDED_RETENTION", 7*24*time.Hour),
		JobTimeout:         p.duration("JOB_TIMEOUT", time.Minute),
		RescueStuckAfter:   p.duration("JOB_RESCUE_STUCK_AFTER", 5*time.Minute),
		FetchCooldown:      p.duration("JOB_FETCH_COOLDOWN", 10*time.Millisecond),
	}
	c.Mail = MailConfig{
		Transport: p.str("MAIL_TRANSPORT", ""),
		SMTPURL:   p.str("SMTP_URL", ""),
		CAFile:    p.str("SMTP_CA_FILE", ""),
		From:      p.str("MAIL_FROM", "Junction <no-reply@junction.local>"),
	}
	switch {
	case c.Mail.Transport != "":
	case c.Mail.SMTPURL != "":
		c.Mail.Transport = MailSMTP
	case c.Development():
		c.Mail.Transport = MailLog
	}
	c.BaseURL = strings.TrimSuffix(p.str("BASE_URL", fmt.Sprintf("http://localhost:%d", c.Port)), "/")
	c.PasswordResetTTL = p.duration("PASSWORD_RESET_TTL", 30*time.Minute)
	c.ListTotalTTL = p.duration("LIST_TOTAL_CACHE_TTL", 5*time.Second)
	c.IdempotencyKeyTTL = p.duration("IDEMPOTENCY_KEY_TTL", 24*time.Hour)
	if c.IdempotencyKeyTTL <= 0 {
		p.fail("IDEMPOTENCY_KEY_TTL must be positive")
	}
	c.Webhooks = WebhooksConfig{
		StripeSecrets: p.list("STRIPE_WEBHOOK_SECRET"),
		Tolerance:     p.duration("STRIPE_WEBHOOK_TOLERANCE", 5*time.Minute),
		RetryBase:     p.duration("WEBHOOK_RETRY_BASE", 2*time.Second),
	}
	c.Webhooks.AllowPrivateTargets = p.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", c.Development())
	c.Webhooks.Concurrency = p.intIn("WEBHOOK_CONCURRENCY", 100, 1, 10_000)
	schedule, err := retry.ParseSchedule(p.str("WEBHOOK_RETRY_SCHEDULE", retry.WebhookSchedule))
	if err != nil {
		p.fail("WEBHOOK_RETRY_SCHEDULE: %v", err)
	}
	c.Webhooks.RetrySchedule = schedule
	c.GraphQL = GraphQLConfig{
		Introspection:    p.bool("GRAPHQL_INTROSPECTION", true),
		MaxDepth:         p.int("GRAPHQL_MAX_DEPTH", 10),
		MaxComplexity:    p.int("GRAPHQL_MAX_COMPLEXITY", 50_000),
		MaxResponseBytes: int64(p.int("GRAPHQL_MAX_RESPONSE_BYTES", 4<<20)),
		BodyLimit:        int64(p.int("GRAPHQL_BODY_LIMIT", 1<<20)),
		LoaderWait:       p.duration("GRAPHQL_LOADER_WAIT", 2*time.Millisecond),
	}
	c.WebSocket = WebSocketConfig{
		MaxConnections:      p.int("WS_MAX_CONNECTIONS", 1000),
		MaxConnectionsPerIP: p.int("WS_MAX_CONNECTIONS_PER_IP", 50),
		MaxSubscriptions:    p.int("WS_MAX_SUBSCRIPTIONS", 20),
		MessageRate:         p.int("WS_MESSAGE_RATE", 10),
	}
	c.DebugAddr = p.str("DEBUG_ADDR", "")
	c.MetricsAddr = p.str("METRICS_ADDR", "")
	c.CORSOrigins = p.list("CORS_ALLOWED_ORIGINS")
	c.Tracing = p.tracing()
	c.check(&p)
	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(p.errs...))
	}
	return c, nil
}

// RequireJWTSecret reports the missing JWT_SECRET outside development. The commands that sign or check tokens
// (serve, worker, grant-admin) call it; migrate does not need the secret, so a deploy's migration step can run
// without it.
func (c Config) RequireJWTSecret() error {
	if c.JWT.Secret == "" && !c.Development() {
		return errors.New("config: JWT_SECRET is required unless APP_ENV=development")
	}
	return nil
}

// RequireMailTransport reports a production without a mail transport: no SMTP_URL, and MAIL_TRANSPORT not set to
// log. The commands that send or queue email (serve, worker) call it; migrate and grant-admin send none.
func (c Config) RequireMailTransport() error {
	if c.Mail.Transport == "" {
		return errors.New("config: SMTP_URL is required unless APP_ENV=development or MAIL_TRANSPORT=log " +
			"(the log transport delivers no password-reset token, so resets cannot work with it)")
	}
	return nil
}

func (c Config) check(p *parser) {
	if c.DatabaseURL == "" {
		p.fail("DATABASE_URL is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		p.fail("PORT %d is out of range", c.Port)
	}
	if c.DB.MaxConns < 1 || c.DB.MinConns < 0 || c.DB.MinConns > c.DB.MaxConns {
		p.fail("DB_MIN_CONNS (%d) and DB_MAX_CONNS (%d) need 0 <= min <= max and max >= 1", c.DB.MinConns, c.DB.MaxConns)
	}
	if c.JWT.Secret != "" && len(c.JWT.Secret) < 32 {
		p.fail("JWT_SECRET must be at least 32 bytes")
	}
	if c.JWT.TTL <= 0 || c.RateLimit.Window <= 0 {
		p.fail("JWT_TTL and RATE_LIMIT_WINDOW must be positive")
	}
	if c.RateLimit.Default < 0 || c.RateLimit.ListUsers < 0 || c.RateLimit.SignUp < 0 || c.RateLimit.Login < 0 ||
		c.RateLimit.PasswordReset < 0 {
		p.fail("RATE_LIMIT_* limits must be 0 (off) or more")
	}
	if c.Redis.Timeout <= 0 {
		p.fail("REDIS_TIMEOUT must be positive")
	}
	if c.Jobs.EmailConcurrency < 1 || c.Jobs.EmailRetryBase <= 0 || c.Jobs.JobTimeout <= 0 {
		p.fail("EMAIL_CONCURRENCY, EMAIL_RETRY_BASE and JOB_TIMEOUT must be positive")
	}
	if c.Jobs.RescueStuckAfter <= c.Jobs.JobTimeout {
		p.fail("JOB_RESCUE_STUCK_AFTER must be longer than JOB_TIMEOUT")
	}
	switch c.Mail.Transport {
	case "", MailLog:
	case MailSMTP:
		if c.Mail.SMTPURL == "" {
			p.fail("MAIL_TRANSPORT=smtp needs SMTP_URL")
		}
	default:
		p.fail("MAIL_TRANSPORT=%q is not smtp or log", c.Mail.Transport)
	}
	if _, err := mail.ParseAddress(c.Mail.From); err != nil {
		p.fail("MAIL_FROM is not an email address")
	}
	if c.Webhooks.Tolerance <= 0 || c.Webhooks.RetryBase <= 0 {
		p.fail("STRIPE_WEBHOOK_TOLERANCE and WEBHOOK_RETRY_BASE must be positive")
	}
	if c.GraphQL.MaxDepth < 1 || c.GraphQL.MaxComplexity < 1 || c.GraphQL.BodyLimit < 1 || c.GraphQL.MaxResponseBytes < 1 {
		p.fail("GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_COMPLEXITY, GRAPHQL_MAX_RESPONSE_BYTES and GRAPHQL_BODY_LIMIT must be positive")
	}
	if ws := c.WebSocket; ws.MaxConnections < 0 || ws.MaxConnectionsPerIP < 0 || ws.MaxSubscriptions < 0 || ws.MessageRate < 0 {
		p.fail("WS_* caps must be 0 (off) or more")
	}
	if c.PasswordResetTTL <= 0 {
		p.fail("PASSWORD_RESET_TTL must be positive")
	}
	if c.Argon2.MemoryKiB < 8*uint32(c.Argon2.Parallelism) || c.Argon2.Iterations < 1 || c.Argon2.Parallelism < 1 {
		p.fail("ARGON2_* parameters need memory >= 8*parallelism KiB, iterations >= 1, parallelism >= 1")
	}
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) str(key, def string) string {
	if v := p.getenv(key); v != "" {
		return v
	}
	return def
}

func (p *parser) int(key string, def int) int {
	v := p.getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail("%s=%q is not an integer", key, v)
		return def
	}
	return n
}

// intIn is int limited to lo..hi, for values that must fit a smaller type.
func (p *parser) intIn(key string, def, lo, hi int) int {
	n := p.int(key, def)
	if n < lo || n > hi {
		p.fail("%s=%d is outside %d..%d", key, n, lo, hi)
		return def
	}
	return n
}

func (p *parser) bool(key string, def bool) bool {
	v := p.getenv(key)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail("%s=%q is not true or false", key, v)
		return def
	}
	return b
}

// list splits a comma-separated value, dropping empty items.
func (p *parser) list(key string) []string {
	var out []string
	for _, f := range strings.Split(p.getenv(key), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// prefixes parses a comma-separated list of CIDRs or bare IPs.
func (p *parser) prefixes(key string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(p.getenv(key), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			addr, err := netip.ParseAddr(f)
			if err != nil {
				p.fail("%s: %q is not an IP or CIDR", key, f)
				continue
			}
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		prefix, err := netip.ParsePrefix(f)
		if err != nil {
			p.fail("%s: %q is not an IP or CIDR", key, f)
			continue
		}
		out = append(out, prefix.Masked())
	}
	return out
}

func (p *parser) duration(key string, def time.Duration) time.Duration {
	v := p.getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.fail("%s=%q is not a duration such as 30s or 5m", key, v)
		return def
	}
	return d
}

// DefaultGCPercent is the garbage collector's GOGC for Junction's processes when the environment sets none: a
// server's live heap is small and its allocation rate high, so at Go's default of 100 it collects several times a
// second, each collection's fixed work paid by the requests of the moment. cmd/junction sets it at start-up; the
// bench gives its bare reference server the same, so that the comparison is of the code, not of the collector.
const DefaultGCPercent = 300
