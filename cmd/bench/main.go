// Command bench measures Junction under load on this machine and writes docs/benchmarks.md: it seeds realistic
// data with COPY, starts a production build of the server, drives each scenario with wrk for a bounded time,
// and runs pgbench at the same concurrency for the database's own ceiling. Run it with `make bench`.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/webhook"
)

type options struct {
	adminURL    string
	scale       float64
	duration    time.Duration
	concurrency int
	port        int
	out         string
	binary      string
	profile     bool
	reuse       bool
	dbConns     int
	bare        string
	only        string
	// deliveryConns is the pool of the webhook delivery run, which works 100 deliveries at once.
	deliveryConns int
	// deliveryPosts is how many posts the webhook delivery run writes (ten deliveries each).
	deliveryPosts int
	// pgbouncerURL, when set, is a PgBouncer in front of the admin URL's server that the server under test reaches
	// the database through (DATABASE_URL), with DATABASE_SESSION_URL direct.
	pgbouncerURL string
	// tracingPairs is how many off/on pairs of the by-id read the tracing comparison runs.
	tracingPairs int
	// traceRatio is the traced server's sampling in the tracing comparison.
	traceRatio float64
	// tracingRun is the length of each run of the tracing comparison.
	tracingRun time.Duration
	// keyPairs is how many unkeyed/keyed pairs of post writes the key's cost comparison runs.
	keyPairs int
	// postmaster is the pid of the PostgreSQL server's main process, when it runs on this machine (0 otherwise).
	postmaster int
	// db is the bench's own pool on the database under test: for the WAL a scenario writes.
	db *pgxpool.Pool
}

func main() {
	if os.Getenv("GOGC") == "" {
		// The job scenarios run Junction's workers, and River's yardstick beside them, in this process: with the
		// collector setting that cmd/junction gives a worker.
		debug.SetGCPercent(config.DefaultGCPercent)
	}
	var o options
	flag.StringVar(&o.adminURL, "admin-url", os.Getenv("BENCH_ADMIN_URL"), "admin connection string of the PostgreSQL to use")
	flag.Float64Var(&o.scale, "scale", 1, "data size: 1 = 100,000 users, 500,000 posts, 2,000,000 comments")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent connections of the load generator (and pgbench)")
	flag.IntVar(&o.port, "port", 18300, "port of the server under test")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "where the results go")
	flag.StringVar(&o.binary, "binary", "bin/junction", "the server binary (a production build)")
	flag.StringVar(&o.bare, "bare", "bin/bare", "the reference server binary (cmd/bench/bare)")
	flag.BoolVar(&o.profile, "profile", false, "save a CPU profile of the server for each scenario under artifacts/")
	flag.IntVar(&o.dbConns, "db-conns", 4, "the server's DB_MAX_CONNS (4 did best on 2 cores: more connections only queue in the kernel instead of the pool)")
	flag.BoolVar(&o.reuse, "reuse", false, "keep the seeded database of an earlier run at the same scale (for iterating on one scenario)")
	flag.IntVar(&o.deliveryConns, "delivery-conns", 16, "the database pool of the webhook delivery run")
	flag.IntVar(&o.deliveryPosts, "delivery-posts", 5000, "posts the webhook delivery run writes, each heard by 10 endpoints")
	flag.StringVar(&o.pgbouncerURL, "pgbouncer-url", os.Getenv("BENCH_PGBOUNCER_URL"), "a PgBouncer (transaction pooling) in front of the admin URL's server: the server under test reaches the database through it, DATABASE_SESSION_URL direct (scripts/localpgbouncer.sh)")
	flag.IntVar(&o.tracingPairs, "tracing-pairs", 8, "pairs of by-id runs, tracing off and on (10% sampled, exported to a local OTLP sink), alternating which goes first")
	flag.DurationVar(&o.tracingRun, "tracing-run", 5*time.Second, "the length of each run of the tracing pairs: many short pairs give a steadier median than a few long ones")
	flag.Float64Var(&o.traceRatio, "trace-ratio", traceRatio, "the traced server's sampling in the tracing comparison (issue 18's goal is at 0.1; 0 shows what an unsampled request pays, 1 a sampled one)")
	flag.IntVar(&o.keyPairs, "key-pairs", 4, "pairs of post-writing runs, without and with an Idempotency-Key, alternating which goes first")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name matches this regexp (\"jobs\", \"deliveries\", \"tracing\", \"key cost\" and \"pgbench\" name the job run, the webhook delivery run, the by-id read with tracing off and on, the paired post writes without and with a key, and the ceiling), logging the results instead of writing the report")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

type result struct {
	name       string
	rps        float64
	p50, p95   time.Duration
	p99        time.Duration
	errors     uint64
	requests   uint64
	peakRSSMiB float64
	// cpuPerRequest is the server process's CPU time (user and system) over the run, per request: on a machine
	// that others share, a steadier measure of what a request costs than requests/s.
	cpuPerRequest time.Duration
	// dbCPUPerRequest is PostgreSQL's CPU time (every process of its server) over the run, per request.
	dbCPUPerRequest time.Duration
	// walPerRequest is the WAL the database wrote over the run, in bytes, per request.
	walPerRequest float64
	note          string
}

const (
	benchPassword = "benchmark password"
	webhookSecret = "whsec_bench"
)

func run(ctx context.Context, o options) error {
	if o.adminURL == "" {
		return errors.New("set BENCH_ADMIN_URL or -admin-url")
	}
	only, err := regexp.Compile(o.only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	w, err := newWrkRunner()
	if err != nil {
		return err
	}
	defer w.close()
	var dbURL string
	if o.reuse {
		dbURL = databaseURL(o.adminURL, "junction_bench")
	} else if dbURL, err = recreate(ctx, o.adminURL, "junction_bench"); err != nil {
		return err
	}
	env := append(withoutOTEL(os.Environ()),
		"DATABASE_URL="+dbURL, "PORT="+strconv.Itoa(o.port), "APP_ENV=production", "LOG_LEVEL=warn",
		"JWT_SECRET=benchmark-secret-benchmark-secret-32", "STRIPE_WEBHOOK_SECRET="+webhookSecret,
		// Limits on, as in production, but too high to refuse: what they cost is part of the figures.
		"RATE_LIMIT_DEFAULT=1000000000", "RATE_LIMIT_LIST_USERS=1000000000", "RATE_LIMIT_SIGNUP=1000000000",
		"RATE_LIMIT_LOGIN=1000000000", "RATE_LIMIT_PASSWORD_RESET=1000000000", "MAIL_TRANSPORT=log",
		"WORKERS_ENABLED=false", "DB_MAX_CONNS="+strconv.Itoa(o.dbConns), "DB_MIN_CONNS="+strconv.Itoa(o.dbConns), "DEBUG_ADDR="+debugAddr(o),
	)
	if o.pgbouncerURL != "" {
		through, err := throughPgBouncer(o.pgbouncerURL, dbURL)
		if err != nil {
			return err
		}
		env = append(env, "DATABASE_URL="+through, "DATABASE_SESSION_URL="+dbURL)
	}
	if out, err := command(ctx, env, o.binary, "migrate").CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %w\n%s", err, out)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	o.postmaster, o.db = postmasterPID(ctx, pool), pool
	start := time.Now()
	data, err := reload(ctx, pool, o.scale)
	if err != nil || len(data.users) == 0 {
		if data, err = seed(ctx, pool, o.scale); err != nil {
			return err
		}
	}
	seedTime := time.Since(start)
	log.Printf("seeded %d users, %d posts, %d comments in %s", len(data.users), data.posts, data.comments, seedTime.Round(time.Second))

	srv := command(ctx, env, o.binary, "serve")
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", o.port)
	if err := waitReady(base); err != nil {
		return err
	}
	time.Sleep(time.Second)
	idle := rssMiB(srv.Process.Pid, "VmRSS")
	token, err := login(base, data.emails[0])
	if err != nil {
		return err
	}

	var results []result
	for _, s := range scenarios(token, data, o.duration, pool) {
		if !only.MatchString(s.name) {
			continue
		}
		log.Printf("scenario: %s", s.name)
		if s.check != nil {
			note, err := s.check(base)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.note = strings.TrimPrefix(s.note+"; "+note, "; ")
		}
		// Every scenario starts from a checkpoint: a write right after one logs each page it first touches in
		// full, so a scenario that ran into the next checkpoint (as the second of two write scenarios would)
		// paid for its predecessor's pages, and a comparison of the two showed the order, not the work.
		if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("checkpoint before %s: %w", s.name, err)
		}
		r, err := attack(ctx, w, s, o, srv.Process.Pid)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	var bare result
	if only.MatchString("bare") {
		if bare, err = bareReference(ctx, w, o, dbURL, token, data); err != nil {
			return err
		}
		if o.only != "" {
			results = append(results, bare)
		}
	}
	var traced tracingResult
	if only.MatchString(tracingName) && o.tracingPairs > 0 {
		if traced, err = tracingCost(ctx, w, o, env, token, data); err != nil {
			return err
		}
	}
	var keyed keyCostResult
	if only.MatchString(keyCostName) && o.keyPairs > 0 {
		if keyed, err = keyCost(ctx, w, o, srv.Process.Pid, pool, token); err != nil {
			return err
		}
	}
	if o.only != "" {
		logKeyCost(keyed)
		log.Printf("idle RSS after start-up: %.1f MiB (%.1f MB)", idle, idle*1024*1024/1e6)
		logTracing(traced)
		for _, r := range results {
			log.Printf("%s: %.0f req/s, p50 %s, p95 %s, p99 %s, %d errors of %d, peak RSS %.0f MiB, CPU a request: server %s, PostgreSQL %s, WAL %s%s",
				r.name, r.rps, r.p50.Round(10*time.Microsecond), r.p95.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond),
				r.errors, r.requests, r.peakRSSMiB, r.cpuPerRequest.Round(time.Microsecond), r.dbCPUPerRequest.Round(time.Microsecond), walSize(r.walPerRequest), strings.TrimSuffix("; "+r.note, "; "))
		}
		if only.MatchString("jobs") {
			rates, err := jobThroughput(ctx, dbURL, o, 20000)
			if err != nil {
				return err
			}
			log.Printf("email jobs: %.0f completed per second, against River's own %.0f/s (a no-op worker, same settings and pool): %.0f%%; "+
				"CPU a job: bench process %s against %s, PostgreSQL %s against %s",
				rates.email, rates.river, 100*rates.email/rates.river, rates.emailCPU.Round(time.Microsecond), rates.riverCPU.Round(time.Microsecond),
				rates.emailDBCPU.Round(time.Microsecond), rates.riverDBCPU.Round(time.Microsecond))
		}
		if only.MatchString("deliveries") {
			perSec, err := deliveryThroughput(ctx, dbURL, o, o.deliveryPosts, 10)
			if err != nil {
				return err
			}
			log.Printf("webhook deliveries: %.0f recorded per second", perSec)
		}
		if only.MatchString("pgbench") {
			tps, err := pgbenchCeiling(ctx, o)
			if err != nil {
				return err
			}
			log.Printf("pgbench: %.0f TPS", tps)
		}
		return nil
	}
	tps, err := pgbenchCeiling(ctx, o)
	if err != nil {
		return err
	}
	rates, err := jobThroughput(ctx, dbURL, o, 20000)
	if err != nil {
		return err
	}
	deliveriesPerSec, err := deliveryThroughput(ctx, dbURL, o, o.deliveryPosts, 10)
	if err != nil {
		return err
	}
	logTracing(traced)
	return writeReport(o, results, bare, traced, keyed, tps, rates, deliveriesPerSec, idle, data, seedTime)
}

func command(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, name, args...)
	c.Env = env
	return c
}

func recreate(ctx context.Context, adminURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	for _, sql := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("%s: %w", sql, err)
		}
	}
	return databaseURL(adminURL, name), nil
}

// throughPgBouncer is dbURL's database reached through the PgBouncer of bouncerURL.
func throughPgBouncer(bouncerURL, dbURL string) (string, error) {
	b, err := url.Parse(bouncerURL)
	if err != nil {
		return "", fmt.Errorf("-pgbouncer-url: %w", err)
	}
	d, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	b.Path = d.Path
	return b.String(), nil
}

func databaseURL(adminURL, name string) string {
	return strings.Replace(adminURL, "/postgres?", "/"+name+"?", 1)
}

// benchMade selects the users an earlier run made rather than seeded: its sign-ups and the webhook delivery
// run's author.
const benchMade = "(email LIKE 'bench-%' OR email LIKE '%@bench.local')"

// reload reads back the users of an earlier run when its data has the size scale asks for; otherwise it returns
// no users, and the caller seeds afresh.
func reload(ctx context.Context, pool *pgxpool.Pool, scale float64) (dataset, error) {
	var d dataset
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM users WHERE NOT "+benchMade).Scan(&n); err != nil || n != int(100_000*scale) {
		return d, err
	}
	rows, err := pool.Query(ctx, "SELECT id, email FROM users WHERE NOT "+benchMade+" ORDER BY created_at")
	if err != nil {
		return d, err
	}
	for rows.Next() {
		var id uuid.UUID
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return d, err
		}
		d.users, d.emails = append(d.users, id), append(d.emails, email)
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	d.posts, d.comments = n*5, n*20
	// The sign-ups of earlier runs are the newest users: the GraphQL scenario's users(limit: 20) would read them,
	// with no posts, instead of the seeded users.
	tag, err := pool.Exec(ctx, "DELETE FROM users WHERE "+benchMade)
	if err != nil {
		return d, fmt.Errorf("drop the sign-ups of earlier runs: %w", err)
	}
	log.Printf("reusing the seeded database (%d users; %d sign-ups of earlier runs dropped)", n, tag.RowsAffected())
	return d, nil
}

type dataset struct {
	users    []uuid.UUID
	emails   []string
	words    []string
	posts    int
	comments int
}

// seed loads users, posts and comments with COPY: realistic names, five posts and twenty comments per user at
// scale 1, 70% of posts published.
func seed(ctx context.Context, pool *pgxpool.Pool, scale float64) (dataset, error) {
	nUsers := int(100_000 * scale)
	nPosts, nComments := nUsers*5, nUsers*20
	rng := rand.New(rand.NewPCG(7, 11))
	hash, err := password.NewHasher(password.Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}).Hash(ctx, benchPassword)
	if err != nil {
		return dataset{}, err
	}
	first := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim", "Margaret", "Dennis"}
	last := []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Berners-Lee", "Hamilton", "Ritchie"}
	d := dataset{users: make([]uuid.UUID, nUsers), emails: make([]string, nUsers), posts: nPosts, comments: nComments, words: first}
	t0 := time.Now().Add(-365 * 24 * time.Hour)
	i := 0
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "name", "email", "password_hash", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == nUsers {
				return nil, nil
			}
			d.users[i] = uuid.New()
			name := first[rng.IntN(len(first))] + " " + last[rng.IntN(len(last))]
			d.emails[i] = fmt.Sprintf("%s.%d@example.com", strings.ToLower(strings.ReplaceAll(name, " ", ".")), i)
			at := t0.Add(time.Duration(i) * time.Minute)
			i++
			return []any{d.users[i-1], name, d.emails[i-1], hash, at, at}, nil
		})); err != nil {
		return d, fmt.Errorf("copy users: %w", err)
	}
	posts := make([]uuid.UUID, nPosts)
	body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 10)
	i = 0
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"posts"}, []string{"id", "author_id", "title", "content", "published", "created_at", "updated_at", "published_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == nPosts {
				return nil, nil
			}
			posts[i] = uuid.New()
			at := t0.Add(time.Duration(i) * 12 * time.Second)
			published := rng.IntN(10) < 7
			var publishedAt *time.Time
			if published {
				publishedAt = &at
			}
			i++
			return []any{posts[i-1], d.users[rng.IntN(nUsers)], fmt.Sprintf("Notes %d on %s", i, last[rng.IntN(len(last))]), body, published, at, at, publishedAt}, nil
		})); err != nil {
		return d, fmt.Errorf("copy posts: %w", err)
	}
	i = 0
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"comments"}, []string{"post_id", "author_id", "content", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == nComments {
				return nil, nil
			}
			i++
			return []any{posts[rng.IntN(nPosts)], d.users[rng.IntN(nUsers)], "A thoughtful comment.", t0.Add(time.Duration(i) * 3 * time.Second)}, nil
		})); err != nil {
		return d, fmt.Errorf("copy comments: %w", err)
	}
	// Settle before measuring: statistics and the visibility map for the planner, and a checkpoint so that the
	// gigabyte the load wrote is not flushed during the first scenarios.
	for _, sql := range []string{"VACUUM ANALYZE", "CHECKPOINT"} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			return d, fmt.Errorf("%s: %w", sql, err)
		}
	}
	return d, nil
}

func waitReady(base string) error {
	for range 100 {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the server did not become ready")
}

func login(base, email string) (string, error) {
	resp, err := http.Post(base+"/api/auth/token", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, benchPassword)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Scan()
	m := regexp.MustCompile(`"accessToken":"([^"]+)"`).FindStringSubmatch(sc.Text())
	if m == nil {
		return "", fmt.Errorf("login: %s", resp.Status)
	}
	return m[1], nil
}

// scenario is one endpoint under load. Its requests are generated just before it runs, rather than while wrk's
// clock runs, and wrk cycles through them.
type scenario struct {
	name     string
	note     string
	unique   bool // a repeated request would be a different workload (a duplicate sign-up or webhook)
	requests func() []request
	// stored, when set, counts what the server stored of the run's requests, each distinct: a figure that
	// duplicates cannot inflate.
	stored func(ctx context.Context) (int64, error)
	// check, when set, runs once against the server at base before the scenario: it refuses to measure a
	// workload other than the one the scenario names, and its note is added to the scenario's.
	check func(base string) (string, error)
}

func scenarios(token string, d dataset, duration time.Duration, pool *pgxpool.Pool) []scenario {
	secs := int(math.Ceil(duration.Seconds()))
	auth := http.Header{"Authorization": {"Bearer " + token}}
	jsonAuth := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	var stripeRun string // the event ids' prefix of the webhook run
	graphql := []byte(`{"query":"{ users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }"}`)
	return []scenario{
		{name: "GET /api/users/{id}", requests: func() []request { return usersByID(d.users, auth, 20_000) }},
		// Seeded users are at version 1: each read is the same by-id read, answered 304 without a body.
		{name: "GET /api/users/{id} with If-None-Match", note: "the same reads, each answered 304 (its ETag unchanged)", requests: func() []request {
			return usersByID(d.users, http.Header{"Authorization": {"Bearer " + token}, "If-None-Match": {`"1"`}}, 20_000)
		}},
		{name: "GET /api/users?search=…&limit=20", note: "trigram search and an exact count", requests: func() []request { return searches(auth) }},
		{name: "GET /api/users?search=<rare>&limit=20", note: "a term matching about 20 users (the digits of their emails), and an exact count", requests: func() []request { return rareSearches(auth) }},
		{name: "GET /api/posts?published=true", note: "newest published posts and an exact count", requests: func() []request {
			return []request{{method: http.MethodGet, path: "/api/posts?published=true"}}
		}},
		// Before every write: the sign-ups below are the newest users, whom users(limit: 20) would read instead
		// of seeded users with posts (its shape is checked before it runs; see graphqlShape).
		{name: "POST /graphql (users → posts → comments → author)", note: "one statement per level", requests: func() []request {
			return []request{{method: http.MethodPost, path: "/graphql", header: jsonAuth, body: graphql}}
		}, check: func(base string) (string, error) { return graphqlShape(base, jsonAuth, graphql) }},
		{name: "POST /api/users", note: "argon2id (19 MiB, 2 passes) and the welcome job: slow by design", unique: true,
			requests: func() []request { return signUps(1_000*secs, time.Now()) }},
		{name: "POST /api/webhooks/stripe", note: "verified, stored, job inserted; every delivery a distinct event", unique: true,
			requests: func() []request {
				now := time.Now()
				stripeRun = webhookRun(now)
				return webhooks(8_000*secs, now)
			},
			stored: func(ctx context.Context) (int64, error) {
				var n int64
				err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events WHERE provider = 'stripe' AND starts_with(event_id, $1)", stripeRun).Scan(&n)
				return n, err
			}},
		// Last, as the posts they write are the newest (what GET /api/posts reads first).
		{name: "POST /api/posts", note: "a published post and its NOTIFY; no webhook endpoint listens (the outbox's check)", requests: func() []request {
			return []request{{method: http.MethodPost, path: "/api/posts", header: jsonAuth, body: benchPost}}
		}},
		{name: "POST /api/posts with an Idempotency-Key", note: "the same, each with its own key: locked in BEGIN's round trip, its answer stored with the write in COMMIT's", unique: true,
			requests: func() []request { return keyedPosts(token, 4_000*secs) }},
	}
}

// benchPost is the body of the post-writing scenarios.
var benchPost = []byte(`{"title":"A bench post","content":"Written by the load generator, as published.","published":true}`)

// keyedPosts are n post writes, each with an Idempotency-Key of its own, unique across runs too: UUIDv7s, as
// the SDKs make them, made now and in order (wrk sends them in that order, a few milliseconds' worth at a time).
func keyedPosts(token string, n int) []request {
	reqs := make([]request, n)
	for i := range reqs {
		h := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"},
			"Idempotency-Key": {uuid.Must(uuid.NewV7()).String()}}
		reqs[i] = request{method: http.MethodPost, path: "/api/posts", header: h, body: benchPost}
	}
	return reqs
}

// usersByID picks n users at random; repeats are fine, and n is enough for the ids to spread over the table.
func usersByID(users []uuid.UUID, h http.Header, n int) []request {
	reqs := make([]request, n)
	for i := range reqs {
		reqs[i] = request{method: http.MethodGet, path: "/api/users/" + users[rand.IntN(len(users))].String(), header: h}
	}
	return reqs
}

func searches(h http.Header) []request {
	var reqs []request
	for _, term := range []string{"ada", "hopper", "turing", "knuth", "liskov", "grace", "ritchie", "perl"} {
		reqs = append(reqs, request{method: http.MethodGet, path: "/api/users?limit=20&search=" + term, header: h})
	}
	return reqs
}

// rareSearches search for terms that each match a handful of the seeded users: the digits of their emails
// (first.last.<i>@example.com, i below 100,000 at scale 1), e.g. 4242 in 4242, 14242, …, 94242 and 42420–42429.
func rareSearches(h http.Header) []request {
	var reqs []request
	for _, term := range []string{"4242", "1717", "3141", "2718", "9001", "5150", "8086", "6502"} {
		reqs = append(reqs, request{method: http.MethodGet, path: "/api/users?limit=20&search=" + term, header: h})
	}
	return reqs
}

// signUps are n sign-ups with emails unique across runs too; the "bench-" prefix keeps them apart from the
// seeded users (see reload).
func signUps(n int, now time.Time) []request {
	h := http.Header{"Content-Type": {"application/json"}}
	reqs := make([]request, n)
	for i := range reqs {
		body := fmt.Appendf(nil, `{"name":"Bench User","email":"bench-%d-%d@example.com","password":%q}`, now.UnixNano(), i, benchPassword)
		reqs[i] = request{method: http.MethodPost, path: "/api/users", header: h, body: body}
	}
	return reqs
}

// webhookRun is the prefix of the event ids of a webhook run generated at now.
func webhookRun(now time.Time) string { return fmt.Sprintf("evt_bench_%d_", now.UnixNano()) }

// webhooks are n Stripe events with ids unique across runs, so that the server stores each rather than
// answering a duplicate. They are all signed now, just before the scenario runs: the server accepts a timestamp
// for 300 s, so a -duration of 5m or more would see the last ones rejected (counted as errors).
func webhooks(n int, now time.Time) []request {
	reqs := make([]request, n)
	for i := range reqs {
		body := fmt.Appendf(nil, `{"id":"%s%d","type":"payment_intent.succeeded","created":%d,"data":{"object":{"id":"pi_%d","amount":2000,"currency":"usd","status":"succeeded"}}}`,
			webhookRun(now), i, now.Unix(), i)
		reqs[i] = request{method: http.MethodPost, path: "/api/webhooks/stripe", body: body, header: http.Header{
			"Content-Type": {"application/json"}, "Stripe-Signature": {webhook.Sign([]byte(webhookSecret), now, body)},
		}}
	}
	return reqs
}

func debugAddr(o options) string { return fmt.Sprintf("127.0.0.1:%d", o.port+1) }

// profileCPU saves the server's CPU profile while a scenario runs, for `go tool pprof`.
func profileCPU(o options, name string) {
	secs := max(int(o.duration.Seconds())-1, 1)
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr(o), secs))
	if err != nil {
		log.Printf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	_ = os.MkdirAll("artifacts", 0o755)
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-")
	f, err := os.Create("artifacts/cpu-" + slug + ".pprof")
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

// profileSelf starts a CPU profile of this process (for scenarios run in it) and returns what ends and saves it.
func profileSelf(name string) (func(), error) {
	_ = os.MkdirAll("artifacts", 0o755)
	f, err := os.Create("artifacts/cpu-" + name + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// attack runs one scenario at full speed with o.concurrency connections, sampling the server's RSS meanwhile.
func attack(ctx context.Context, w *wrkRunner, s scenario, o options, pid int) (result, error) {
	file, err := w.writeRequests(s.requests())
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", s.name, err)
	}
	peak := sampleRSS(pid)
	if o.profile {
		go profileCPU(o, s.name)
	}
	cpu0, db0, wal0 := processCPU(pid), serverCPU(o.postmaster), walLSN(ctx, o.db)
	sum, err := w.run(ctx, o, file)
	r := result{name: s.name, note: s.note, peakRSSMiB: peak()}
	if err != nil {
		return r, fmt.Errorf("%s: %w", s.name, err)
	}
	r.requests, r.errors = sum.Requests, sum.SocketErrors+sum.StatusErrors
	if r.requests > 0 {
		r.cpuPerRequest = (processCPU(pid) - cpu0) / time.Duration(r.requests)
		r.dbCPUPerRequest = (serverCPU(o.postmaster) - db0) / time.Duration(r.requests)
		r.walPerRequest = float64(walLSN(ctx, o.db)-wal0) / float64(r.requests)
	}
	r.rps = requestRate(sum, s.unique)
	r.p50, r.p95, r.p99 = microseconds(sum.P50Micros), microseconds(sum.P95Micros), microseconds(sum.P99Micros)
	if s.unique && sum.Repeated > 0 {
		r.note = strings.TrimPrefix(r.note+fmt.Sprintf("; %d requests repeated earlier ones (the generated list ran out) and are not counted in requests/s", sum.Repeated), "; ")
	}
	if s.stored != nil {
		n, err := s.stored(ctx)
		if err != nil {
			return r, fmt.Errorf("%s: count what was stored: %w", s.name, err)
		}
		// A request that wrk sent as the run ended may be stored without being counted, so n may exceed the
		// requests by up to the connection count; fewer would mean answers for deliveries not stored.
		r.note += fmt.Sprintf("; %d distinct deliveries stored", n)
	}
	return r, nil
}

// walLSN is where the database's WAL ends now, in bytes from its start; 0 without a pool.
func walLSN(ctx context.Context, pool *pgxpool.Pool) int64 {
	if pool == nil {
		return 0
	}
	var n int64
	if err := pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(&n); err != nil {
		return 0
	}
	return n
}

// requestRate is a run's requests per second. Of a scenario whose requests must be unique it counts only those
// that were: the repeats measured the server answering duplicates, a different workload, so the rate errs low.
func requestRate(sum wrkSummary, unique bool) float64 {
	n := sum.Requests
	if unique {
		n -= min(sum.Repeated, n)
	}
	return float64(n) / (float64(sum.DurationMicros) / 1e6)
}

// sampleRSS samples pid's resident set every 100 ms until the returned function is called, which returns the peak.
func sampleRSS(pid int) func() float64 {
	stop := make(chan struct{})
	peak := make(chan float64)
	go func() {
		var m float64
		for {
			select {
			case <-stop:
				peak <- m
				return
			case <-time.After(100 * time.Millisecond):
				m = max(m, rssMiB(pid, "VmRSS"))
			}
		}
	}()
	return func() float64 {
		close(stop)
		return <-peak
	}
}

// procStat is the fields of /proc/PID/stat after the command's name, which is in parentheses and may hold spaces:
// the line's 3rd field is the first of them. ok is false when pid is gone.
func procStat(pid int) (fields []string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil, false
	}
	fields = strings.Fields(string(b[i+1:]))
	return fields, len(fields) >= 15
}

// ticks is the sum of the clock-tick fields at a and b of a procStat, as time (ticks of 10 ms, Linux's USER_HZ
// everywhere it runs).
func ticks(fields []string, a, b int) time.Duration {
	x, _ := strconv.ParseInt(fields[a], 10, 64)
	y, _ := strconv.ParseInt(fields[b], 10, 64)
	return time.Duration(x+y) * 10 * time.Millisecond
}

// ownCPU is a procStat's user and system CPU time (utime and stime, the line's 14th and 15th fields).
func ownCPU(fields []string) time.Duration { return ticks(fields, 11, 12) }

// processCPU is the user and system CPU time pid has used.
func processCPU(pid int) time.Duration {
	fields, ok := procStat(pid)
	if !ok {
		return 0
	}
	return ownCPU(fields)
}

// postmasterPID is the pid of the main process of pool's PostgreSQL server (the parent of a backend), or 0 when
// it does not run on this machine.
func postmasterPID(ctx context.Context, pool *pgxpool.Pool) int {
	var backend int
	if err := pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0
	}
	parent, ok := parentPID(backend)
	if !ok {
		return 0
	}
	return parent
}

// parentPID is pid's parent (ppid, the line's 4th field of /proc/PID/stat).
func parentPID(pid int) (int, bool) {
	fields, ok := procStat(pid)
	if !ok {
		return 0, false
	}
	return parentOf(fields)
}

func parentOf(fields []string) (int, bool) {
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// serverCPU is the CPU time of a PostgreSQL server: its main process, every child that runs (backends, WAL
// writer, autovacuum...) and every child that has exited and been waited for (cutime and cstime, the line's 16th
// and 17th fields of the main process).
func serverCPU(postmaster int) time.Duration {
	if postmaster == 0 {
		return 0
	}
	main, ok := procStat(postmaster)
	if !ok {
		return 0
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	total := ownCPU(main) + ticks(main, 13, 14)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// One read of each process's line for both its parent and its time.
		if fields, ok := procStat(pid); ok {
			if parent, ok := parentOf(fields); ok && parent == postmaster {
				total += ownCPU(fields)
			}
		}
	}
	return total
}

func rssMiB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// pgbenchCeiling is pgbench's select-only TPS with prepared statements at the same concurrency.
func pgbenchCeiling(ctx context.Context, o options) (float64, error) {
	dbURL, err := recreate(ctx, o.adminURL, "pgbench_bench")
	if err != nil {
		return 0, err
	}
	if out, err := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", "10", dbURL).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "pgbench", "-S", "-M", "prepared", "-c", strconv.Itoa(o.concurrency), "-j", "2",
		"-T", strconv.Itoa(int(o.duration.Seconds())), dbURL).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps in\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// bareReference runs the by-id scenario against cmd/bench/bare, a server that does nothing but the query, with
// the same pool size: what any Go service could reach here, and the measure of what Junction's own work costs.
func bareReference(ctx context.Context, w *wrkRunner, o options, dbURL, token string, d dataset) (result, error) {
	bo := o
	bo.port = o.port + 2
	bo.profile = false
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "PORT="+strconv.Itoa(bo.port), "DB_MAX_CONNS="+strconv.Itoa(o.dbConns))
	if os.Getenv("GOGC") == "" {
		// Junction's own default (cmd/junction sets it), so that the two servers' collectors work alike.
		env = append(env, "GOGC="+strconv.Itoa(config.DefaultGCPercent))
	}
	srv := command(ctx, env, o.bare)
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, fmt.Errorf("the bare reference server: %w", err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	if err := waitReady(fmt.Sprintf("http://127.0.0.1:%d", bo.port)); err != nil {
		return result{}, err
	}
	log.Printf("scenario: the bare reference server, GET /api/users/{id}")
	auth := http.Header{"Authorization": {"Bearer " + token}} // ignored; sent so that the requests weigh the same
	return attack(ctx, w, scenario{name: bareName, requests: func() []request { return usersByID(d.users, auth, 20_000) }}, bo, srv.Process.Pid)
}

const bareName = "reference: bare net/http + pgx, GET /api/users/{id}"
