package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func writeReport(o options, results []result, bare result, traced tracingResult, keyed keyCostResult, pgbenchTPS float64, jobs jobRates, deliveriesPerSec, idleRSS float64, d dataset, seedTime time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (cmd/bench); numbers from one run on one machine: compare them only with each other. What bounds each figure, and what changed them: `docs/performance.md`.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s, %d cores, %s; %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), memTotal(), pgVersion())
	fmt.Fprintf(&b, "- Command: `make bench` (= `go run ./cmd/bench -scale %g -duration %s -concurrency %d`)\n", o.scale, o.duration, o.concurrency)
	fmt.Fprintf(&b, "- Data: %d users, %d posts, %d comments, loaded with COPY in %s\n", len(d.users), d.posts, d.comments, seedTime.Round(time.Second))
	fmt.Fprintf(&b, "- Server: production build, `LOG_LEVEL=warn`, rate limits, authentication, validation, logging and metrics on (limits too high to refuse), `DB_MAX_CONNS=%d`; the load generator and PostgreSQL share the same 2 cores.\n", o.dbConns)
	fmt.Fprintf(&b, "- Load generator: %s, %s, %d keep-alive connections, for each scenario `wrk %s`; wrk.lua cycles through requests generated beforehand (random user ids, unique sign-ups, unique signed webhooks).\n\n",
		wrkVersion(), count(wrkThreads, "thread"), o.concurrency, strings.Join(wrkArgs(o, "cmd/bench/wrk.lua", "<requests>"), " "))
	fmt.Fprintf(&b, "| scenario | requests/s | p50 | p95 | p99 | errors | peak RSS | CPU a request: server / PostgreSQL | WAL a request | note |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %d / %d | %.0f MiB | %s / %s | %s | %s |\n", r.name, r.rps, ms(r.p50), ms(r.p95), ms(r.p99), r.errors, r.requests, r.peakRSSMiB,
			r.cpuPerRequest.Round(time.Microsecond), r.dbCPUPerRequest.Round(time.Microsecond), walSize(r.walPerRequest), r.note)
	}
	fmt.Fprintf(&b, "\n| measure | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| `pgbench -S -M prepared -c %d -j 2` (the database's ceiling) | %.0f TPS |\n", o.concurrency, pgbenchTPS)
	if len(results) > 0 && pgbenchTPS > 0 {
		fmt.Fprintf(&b, "| by-id read / pgbench | %.0f%% |\n", 100*results[0].rps/pgbenchTPS)
	}
	if bare.rps > 0 {
		fmt.Fprintf(&b, "| a bare net/http + pgx server, GET by id, same pool (cmd/bench/bare: no auth, validation, limits, logs or metrics) | %.0f req/s, p99 %s |\n", bare.rps, ms(bare.p99))
		fmt.Fprintf(&b, "| bare server / pgbench | %.0f%% |\n", 100*bare.rps/pgbenchTPS)
		if len(results) > 0 {
			fmt.Fprintf(&b, "| Junction's by-id read / bare server | %.0f%% |\n", 100*results[0].rps/bare.rps)
		}
	}
	// The goals that compare two scenarios of the run (issue 17): a key's cost and a 304 against a 200.
	if plain, withKey, ok := pair(results, "POST /api/posts", "POST /api/posts with an Idempotency-Key"); ok {
		fmt.Fprintf(&b, "| POST /api/posts with an Idempotency-Key against without, the two scenarios above: time a request (1 / requests/s) | %+.1f%% |\n", 100*(plain.rps/withKey.rps-1))
	}
	if len(keyed.keyed) > 0 {
		fmt.Fprintf(&b, "| POST /api/posts with an Idempotency-Key against without, median of %d alternating pairs of %s runs on one server, each from the same start (tables vacuumed, the trigram index's pending list merged, a checkpoint; without → with: %s) | %+.1f%% time a request, %+.1f%% CPU a request (server and PostgreSQL) |\n",
			len(keyed.keyed), keyed.durationPerRun, keyed.pairs(), 100*(median(keyed.ratios())-1), 100*(median(keyed.cpuRatios())-1))
	}
	if full, notModified, ok := pair(results, "GET /api/users/{id}", "GET /api/users/{id} with If-None-Match"); ok {
		fmt.Fprintf(&b, "| GET /api/users/{id} answered 304 against 200: requests/s | %.2f× |\n", notModified.rps/full.rps)
	}
	if len(traced.on) > 0 {
		var pairs []string
		for i := range traced.on {
			pairs = append(pairs, fmt.Sprintf("%.0f → %.0f req/s, %s → %s", traced.off[i].rps, traced.on[i].rps,
				traced.off[i].cpuPerRequest.Round(time.Microsecond), traced.on[i].cpuPerRequest.Round(time.Microsecond)))
		}
		fmt.Fprintf(&b, "| by-id read, tracing on (OTLP/HTTP to a local sink, %.0f%% of requests sampled) / tracing off, median of %d alternating pairs of %s runs (off → on: %s) | %.1f%% of the requests/s, %.1f%% of the server's CPU a request |\n",
			100*o.traceRatio, len(traced.on), traced.durationPerRun, strings.Join(pairs, "; "), 100*median(traced.ratios()), 100*median(traced.cpuRatios()))
		fmt.Fprintf(&b, "| spans the sink received from the traced server (traces: %.1f%% of its %d requests) | %d in %d traces |\n",
			100*float64(traced.traces)/float64(traced.onRequests), traced.onRequests, traced.spans, traced.traces)
	}
	fmt.Fprintf(&b, "| email jobs completed per second (no-op transport, 100 workers) | %.0f |\n", jobs.email)
	fmt.Fprintf(&b, "| River's own rate: a worker that does nothing, same client settings and pool | %.0f jobs/s |\n", jobs.river)
	if jobs.river > 0 {
		fmt.Fprintf(&b, "| email jobs / River's own | %.0f%% |\n", 100*jobs.email/jobs.river)
	}
	fmt.Fprintf(&b, "| webhook deliveries recorded per second (%d posts × 10 endpoints, write → signed POST to a local receiver → recorded; 100 workers; after a warm-up and ANALYZE) | %.0f |\n", o.deliveryPosts, deliveriesPerSec)
	fmt.Fprintf(&b, "| idle RSS after start-up | %.1f MiB (%.1f MB) |\n", idleRSS, idleRSS*1024*1024/1e6)
	if err := os.MkdirAll("docs", 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(b.String())
	return nil
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// walSize is a count of WAL bytes, in KB.
func walSize(n float64) string { return fmt.Sprintf("%.1f KB", n/1e3) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			return strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			var kb float64
			fmt.Sscanf(strings.Fields(line)[1], "%f", &kb)
			return fmt.Sprintf("%.0f GiB RAM", kb/1024/1024)
		}
	}
	return "?"
}

func pgVersion() string {
	out, err := exec.Command("pgbench", "--version").Output()
	if err != nil {
		return "PostgreSQL ?"
	}
	return strings.TrimSpace(strings.Replace(string(out), "pgbench (PostgreSQL)", "PostgreSQL", 1))
}

// pair finds the results named a and b, both with requests.
func pair(results []result, a, b string) (ra, rb result, ok bool) {
	var okA, okB bool
	for _, r := range results {
		switch r.name {
		case a:
			ra, okA = r, r.rps > 0
		case b:
			rb, okB = r, r.rps > 0
		}
	}
	return ra, rb, okA && okB
}
