package config

import (
	"cmp"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRequireJWTSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"none in production", map[string]string{"DATABASE_URL": "x"}, false},
		{"none in development", map[string]string{"DATABASE_URL": "x", "APP_ENV": "development"}, true},
		{"one in production", map[string]string{"DATABASE_URL": "x", "JWT_SECRET": strings.Repeat("s", 32)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tt.env[k] })
			require.NoError(t, err, "loading does not ask for the secret: migrate runs without it")
			if tt.ok {
				require.NoError(t, c.RequireJWTSecret())
			} else {
				require.ErrorContains(t, c.RequireJWTSecret(), "JWT_SECRET is required")
			}
		})
	}
}

// TestMailTransport: production never falls back to the log transport on its own, because that transport delivers
// no reset token; development does, and an explicit MAIL_TRANSPORT wins.
func TestMailTransport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		transport string
		loadErr   string // from Load
		refused   bool   // by RequireMailTransport
	}{
		{name: "production without SMTP_URL", env: map[string]string{}, refused: true},
		{name: "production with SMTP_URL", env: map[string]string{"SMTP_URL": "smtp://mail:587"}, transport: MailSMTP},
		{name: "production set to log", env: map[string]string{"MAIL_TRANSPORT": "log"}, transport: MailLog},
		{name: "log wins over SMTP_URL", env: map[string]string{"MAIL_TRANSPORT": "log", "SMTP_URL": "smtp://mail:587"}, transport: MailLog},
		{name: "development without SMTP_URL", env: map[string]string{"APP_ENV": "development"}, transport: MailLog},
		{name: "development with SMTP_URL", env: map[string]string{"APP_ENV": "development", "SMTP_URL": "smtp://mail:587"}, transport: MailSMTP},
		{name: "smtp without SMTP_URL", env: map[string]string{"MAIL_TRANSPORT": "smtp"}, loadErr: "MAIL_TRANSPORT=smtp needs SMTP_URL"},
		{name: "unknown transport", env: map[string]string{"MAIL_TRANSPORT": "pigeon", "SMTP_URL": "smtp://mail:587"}, loadErr: `MAIL_TRANSPORT="pigeon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATABASE_URL": "x"}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := Load(func(k string) string { return env[k] })
			if tt.loadErr != "" {
				require.ErrorContains(t, err, tt.loadErr)
				return
			}
			require.NoError(t, err, "loading does not ask for a transport: migrate sends no email")
			if tt.refused {
				require.ErrorContains(t, c.RequireMailTransport(), "SMTP_URL is required unless APP_ENV=development or MAIL_TRANSPORT=log")
				return
			}
			require.NoError(t, c.RequireMailTransport())
			require.Equal(t, tt.transport, c.Mail.Transport)
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://db", "JWT_SECRET": strings.Repeat("s", 32)}[k]
	})
	require.NoError(t, err)
	require.Equal(t, 8080, c.Port)
	require.False(t, c.Development())
	require.Equal(t, DBConfig{
		MaxConns: 20, MinConns: 5, MaxConnIdleTime: 30 * time.Second, MaxConnLifetime: time.Hour,
		ConnectTimeout: 2 * time.Second, WaitTimeout: 30 * time.Second, StatementTimeout: 10 * time.Second,
	}, c.DB)
	require.Equal(t, "postgres://db", c.DatabaseSessionURL, "one direct URL for everything, sessions included")
	require.Equal(t, Argon2Config{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}, c.Argon2)
	require.Equal(t, JWTConfig{Secret: strings.Repeat("s", 32), Issuer: "junction", Audience: "junction-api", TTL: time.Hour, CacheTTL: 10 * time.Second}, c.JWT)
	require.Equal(t, RateLimitConfig{Window: time.Minute, Default: 300, ListUsers: 100, SignUp: 10, Login: 10, PasswordReset: 10}, c.RateLimit)
	require.Equal(t, RedisConfig{Timeout: 100 * time.Millisecond}, c.Redis, "no Redis: each instance limits on its own")
	require.Equal(t, WebSocketConfig{MaxConnections: 1000, MaxConnectionsPerIP: 50, MaxSubscriptions: 20, MessageRate: 10}, c.WebSocket)
	require.Equal(t, GraphQLConfig{
		Introspection: true, MaxDepth: 10, MaxComplexity: 50_000, MaxResponseBytes: 4 << 20, BodyLimit: 1 << 20,
		LoaderWait: 2 * time.Millisecond,
	}, c.GraphQL)
}

// TestSessionURLMeansTransactionPooling: a session URL of its own says that DATABASE_URL cannot hold one.
func TestSessionURLMeansTransactionPooling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		session string
		pooled  bool
	}{{"", false}, {"postgres://db", false}, {"postgres://direct", true}} {
		vars := map[string]string{"DATABASE_URL": "postgres://db", "DATABASE_SESSION_URL": tt.session}
		c, err := Load(func(k string) string { return vars[k] })
		require.NoError(t, err)
		require.Equal(t, tt.pooled, c.DB.TransactionPooling, "DATABASE_SESSION_URL=%q", tt.session)
		require.Equal(t, cmp.Or(tt.session, "postgres://db"), c.DatabaseSessionURL)
	}
}

func TestLoadOverridesAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string
	}{
		{
			name: "overrides",
			env: map[string]string{"DATABASE_URL": "postgres://db", "APP_ENV": "development", "PORT": "9000",
				"DB_MAX_CONNS": "50", "DB_MIN_CONNS": "0", "DB_CONNECT_TIMEOUT": "500ms", "ARGON2_MEMORY_KIB": "65536",
				"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7", "RATE_LIMIT_SIGNUP": "0",
				"WS_MAX_CONNECTIONS": "0", "WS_MAX_CONNECTIONS_PER_IP": "5", "WS_MAX_SUBSCRIPTIONS": "3", "WS_MESSAGE_RATE": "7",
				"REDIS_URL": "redis://redis:6379/2", "REDIS_TIMEOUT": "50ms"},
			check: func(t *testing.T, c Config) {
				require.True(t, c.Development())
				require.Equal(t, 9000, c.Port)
				require.EqualValues(t, 50, c.DB.MaxConns)
				require.EqualValues(t, 0, c.DB.MinConns)
				require.Equal(t, 500*time.Millisecond, c.DB.ConnectTimeout)
				require.EqualValues(t, 65536, c.Argon2.MemoryKiB)
				require.Empty(t, c.JWT.Secret, "development may run without a secret")
				require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}, c.RateLimit.TrustedProxies)
				require.Zero(t, c.RateLimit.SignUp)
				require.Equal(t, WebSocketConfig{MaxConnections: 0, MaxConnectionsPerIP: 5, MaxSubscriptions: 3, MessageRate: 7}, c.WebSocket)
				require.Equal(t, RedisConfig{URL: "redis://redis:6379/2", Timeout: 50 * time.Millisecond}, c.Redis)
			},
		},
		{name: "no database", env: map[string]string{}, wantErr: []string{"DATABASE_URL is required"}},
		{name: "short JWT secret", env: map[string]string{"DATABASE_URL": "x", "JWT_SECRET": "short"}, wantErr: []string{"at least 32 bytes"}},
		{name: "bad proxy", env: map[string]string{"DATABASE_URL": "x", "TRUSTED_PROXIES": "10.0.0.0/33"}, wantErr: []string{"TRUSTED_PROXIES"}},
		{
			name:    "every bad value is reported",
			env:     map[string]string{"DATABASE_URL": "x", "PORT": "http", "DB_IDLE": "", "DB_MAX_CONN_IDLE_TIME": "soon"},
			wantErr: []string{"PORT", "DB_MAX_CONN_IDLE_TIME"},
		},
		{name: "negative websocket cap", env: map[string]string{"DATABASE_URL": "x", "WS_MESSAGE_RATE": "-1"}, wantErr: []string{"WS_*"}},
		{name: "no Redis timeout", env: map[string]string{"DATABASE_URL": "x", "REDIS_TIMEOUT": "0s"}, wantErr: []string{"REDIS_TIMEOUT"}},
		{name: "min above max", env: map[string]string{"DATABASE_URL": "x", "DB_MIN_CONNS": "30"}, wantErr: []string{"DB_MIN_CONNS"}},
		{name: "no response cap", env: map[string]string{"DATABASE_URL": "x", "GRAPHQL_MAX_RESPONSE_BYTES": "0"}, wantErr: []string{"GRAPHQL_MAX_RESPONSE_BYTES"}},
		{name: "argon2 parallelism out of range", env: map[string]string{"DATABASE_URL": "x", "ARGON2_PARALLELISM": "300"}, wantErr: []string{"ARGON2_PARALLELISM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				require.NoError(t, err)
				tt.check(t, c)
				return
			}
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}
