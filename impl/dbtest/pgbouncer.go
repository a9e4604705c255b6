package dbtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/postgres"
)

// EnvPgBouncerURL names the variable that holds a connection string through a PgBouncer in transaction pooling
// mode in front of the server of TEST_DATABASE_URL; `make test` starts one (scripts/localpgbouncer.sh).
const EnvPgBouncerURL = "TEST_PGBOUNCER_URL"

// ThroughPgBouncer returns dbURL (one of NewURL's) reached through the PgBouncer of TEST_PGBOUNCER_URL, which
// routes every database name to the server. It skips t when TEST_PGBOUNCER_URL is not set.
func ThroughPgBouncer(t testing.TB, dbURL string) string {
	t.Helper()
	bouncer := pgBouncerURL(t)
	db, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	bouncer.Path = db.Path
	return bouncer.String()
}

func pgBouncerURL(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv(EnvPgBouncerURL)
	if raw == "" {
		t.Skipf("%s is not set: `make test` starts a PgBouncer (scripts/localpgbouncer.sh) and sets it", EnvPgBouncerURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("dbtest: %s is not a URL: %v", EnvPgBouncerURL, err)
	}
	return u
}

// NewThroughPgBouncer returns a pool on a fresh, migrated database through the PgBouncer of TEST_PGBOUNCER_URL,
// configured as the service configures its own for a transaction pooler (postgres.Connect with
// TransactionPooling), and a pool of direct connections to the same database (postgres.ConnectSession) for what
// holds a session. Both are closed when t ends; t is skipped when TEST_PGBOUNCER_URL is not set.
func NewThroughPgBouncer(t testing.TB) (pool, session *pgxpool.Pool) {
	t.Helper()
	direct := NewURL(t)
	through := ThroughPgBouncer(t, direct)
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	cfg := config.DBConfig{
		MaxConns: 8, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 5 * time.Second,
		WaitTimeout: 10 * time.Second, TransactionPooling: true,
	}
	pool, err := postgres.Connect(ctx, through, cfg, logger)
	if err != nil {
		t.Fatalf("dbtest: through PgBouncer: %v", err)
	}
	t.Cleanup(pool.Close)
	if session, err = postgres.ConnectSession(ctx, direct, cfg, logger); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(session.Close)
	return pool, session
}

// Pool is what PgBouncer's admin console says of one database's pool.
type Pool struct {
	// Mode is its pool_mode: "transaction" for TEST_PGBOUNCER_URL's.
	Mode string
	// Size is the most server connections it opens (pool_size).
	Size int
	// Clients are the client connections open on it, Servers the server connections.
	Clients, Servers int
}

// PgBouncerPool returns what the PgBouncer of TEST_PGBOUNCER_URL says of the pool of dbURL's database (SHOW
// DATABASES, SHOW POOLS), so that a test can show that its clients share fewer server connections.
func PgBouncerPool(t testing.TB, dbURL string) Pool {
	t.Helper()
	db, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	database := strings.TrimPrefix(db.Path, "/")
	u := pgBouncerURL(t)
	u.Path = "/pgbouncer" // the admin console
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	// The console speaks the simple protocol only.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("dbtest: PgBouncer's admin console: %v", err)
	}
	defer conn.Close(context.Background())
	var p Pool
	found := false
	for _, row := range show(t, conn, "DATABASES") {
		if row["name"] == database {
			p.Size, p.Mode, found = atoi(row["pool_size"]), row["pool_mode"], true
		}
	}
	for _, row := range show(t, conn, "POOLS") {
		if row["database"] != database {
			continue
		}
		p.Clients += atoi(row["cl_active"]) + atoi(row["cl_waiting"])
		for _, col := range []string{"sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"} {
			p.Servers += atoi(row[col])
		}
		p.Mode = row["pool_mode"] // the pool's own, should a user's override the database's
	}
	if !found {
		t.Fatalf("dbtest: PgBouncer knows no database %q", database)
	}
	return p
}

// show returns the rows of the console's SHOW what, every value as text.
func show(t testing.TB, conn *pgx.Conn, what string) []map[string]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SHOW "+what)
	if err != nil {
		t.Fatalf("dbtest: SHOW %s: %v", what, err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			t.Fatalf("dbtest: SHOW %s: %v", what, err)
		}
		row := map[string]string{}
		for i, f := range rows.FieldDescriptions() {
			if values[i] != nil {
				row[f.Name] = fmt.Sprint(values[i])
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("dbtest: SHOW %s: %v", what, err)
	}
	return out
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}
