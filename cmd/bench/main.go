// Command bench measures Junction under load on this machine and writes docs/benchmarks.md: it seeds realistic
// data with COPY, starts a production build of the server, drives each scenario with vegeta for a bounded time,
// and runs pgbench at the same concurrency for the database's own ceiling. Run it with `make bench`.
package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/junction-dev/junction/impl/password"
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
}

func main() {
	var o options
	flag.StringVar(&o.adminURL, "admin-url", os.Getenv("BENCH_ADMIN_URL"), "admin connection string of the PostgreSQL to use")
	flag.Float64Var(&o.scale, "scale", 1, "data size: 1 = 100,000 users, 500,000 posts, 2,000,000 comments")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent connections of the load generator (and pgbench)")
	flag.IntVar(&o.port, "port", 18300, "port of the server under test")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "where the results go")
	flag.StringVar(&o.binary, "binary", "bin/junction", "the server binary (a production build)")
	flag.BoolVar(&o.profile, "profile", false, "save a CPU profile of the server for each scenario under artifacts/")
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
	note       string
}

const benchPassword = "benchmark password"

func run(ctx context.Context, o options) error {
	if o.adminURL == "" {
		return errors.New("set BENCH_ADMIN_URL or -admin-url")
	}
	dbURL, err := recreate(ctx, o.adminURL, "junction_bench")
	if err != nil {
		return err
	}
	env := append(os.Environ(),
		"DATABASE_URL="+dbURL, "PORT="+strconv.Itoa(o.port), "APP_ENV=production", "LOG_LEVEL=warn",
		"JWT_SECRET=benchmark-secret-benchmark-secret-32", "STRIPE_WEBHOOK_SECRET=whsec_bench",
		"RATE_LIMIT_DEFAULT=0", "RATE_LIMIT_LIST_USERS=0", "RATE_LIMIT_SIGNUP=0", "RATE_LIMIT_LOGIN=0",
		"WORKERS_ENABLED=false", "DB_MAX_CONNS=32", "DEBUG_ADDR="+debugAddr(o),
	)
	if out, err := command(ctx, env, o.binary, "migrate").CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %w\n%s", err, out)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	start := time.Now()
	data, err := seed(ctx, pool, o.scale)
	if err != nil {
		return err
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
	for _, s := range scenarios(base, token, data) {
		log.Printf("scenario: %s", s.name)
		r := attack(s, o, srv.Process.Pid)
		results = append(results, r)
	}
	tps, err := pgbenchCeiling(ctx, o)
	if err != nil {
		return err
	}
	jobsPerSec, err := jobThroughput(ctx, dbURL, 20000)
	if err != nil {
		return err
	}
	return writeReport(o, results, tps, jobsPerSec, idle, data, seedTime)
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
	return strings.Replace(adminURL, "/postgres?", "/"+name+"?", 1), nil
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
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return d, err
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

type scenario struct {
	name     string
	note     string
	targeter vegeta.Targeter
}

func scenarios(base, token string, d dataset) []scenario {
	auth := http.Header{"Authorization": {"Bearer " + token}}
	jsonAuth := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	var seq atomic.Int64
	searches := []string{"ada", "hopper", "turing", "knuth", "liskov", "grace", "ritchie", "perl"}
	get := func(url func() string, h http.Header) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			t.Method, t.URL, t.Header = http.MethodGet, url(), h
			return nil
		}
	}
	post := func(url string, body func() []byte, h func([]byte) http.Header) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			t.Method, t.URL = http.MethodPost, url
			t.Body = body()
			t.Header = h(t.Body)
			return nil
		}
	}
	return []scenario{
		{name: "GET /api/users/{id}", targeter: get(func() string {
			return base + "/api/users/" + d.users[rand.IntN(len(d.users))].String()
		}, auth)},
		{name: "GET /api/users?search=…&limit=20", note: "trigram search and an exact count", targeter: get(func() string {
			return base + "/api/users?limit=20&search=" + searches[rand.IntN(len(searches))]
		}, auth)},
		{name: "GET /api/posts?published=true", note: "newest published posts and an exact count", targeter: get(func() string {
			return base + "/api/posts?published=true"
		}, nil)},
		{name: "POST /api/users", note: "argon2id (19 MiB, 2 passes) and the welcome job: slow by design", targeter: post(base+"/api/users", func() []byte {
			return fmt.Appendf(nil, `{"name":"Bench User","email":"bench-%d-%d@example.com","password":"benchmark password"}`, time.Now().UnixNano(), seq.Add(1))
		}, func([]byte) http.Header { return http.Header{"Content-Type": {"application/json"}} })},
		{name: "POST /graphql (users → posts → comments → author)", note: "20 users, dataloaders", targeter: post(base+"/graphql", func() []byte {
			return []byte(`{"query":"{ users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }"}`)
		}, func([]byte) http.Header { return jsonAuth })},
		{name: "POST /api/webhooks/stripe", note: "verified, stored, job inserted", targeter: post(base+"/api/webhooks/stripe", func() []byte {
			return fmt.Appendf(nil, `{"id":"evt_bench_%d_%d","type":"payment_intent.succeeded","created":%d,"data":{"object":{"id":"pi_%d","amount":2000,"currency":"usd","status":"succeeded"}}}`,
				time.Now().UnixNano(), seq.Add(1), time.Now().Unix(), seq.Load())
		}, func(body []byte) http.Header {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			m := hmac.New(sha256.New, []byte("whsec_bench"))
			m.Write([]byte(ts + "."))
			m.Write(body)
			return http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {"t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))}}
		})},
	}
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

// attack runs one scenario at full speed with o.concurrency workers, sampling the server's RSS meanwhile.
func attack(s scenario, o options, pid int) result {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(o.concurrency)), vegeta.MaxWorkers(uint64(o.concurrency)),
		vegeta.Connections(o.concurrency), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
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
	if o.profile {
		go profileCPU(o, s.name)
	}
	var metrics vegeta.Metrics
	for res := range a.Attack(s.targeter, vegeta.Rate{Freq: 0}, o.duration, s.name) {
		metrics.Add(res)
	}
	metrics.Close()
	close(stop)
	errs := metrics.Requests - uint64(float64(metrics.Requests)*metrics.Success+0.5)
	return result{
		name: s.name, note: s.note, rps: metrics.Throughput, requests: metrics.Requests, errors: errs,
		p50: metrics.Latencies.P50, p95: metrics.Latencies.P95, p99: metrics.Latencies.P99, peakRSSMiB: <-peak,
	}
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
