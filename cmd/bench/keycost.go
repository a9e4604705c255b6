package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// keyCostName is the paired comparison of a post written with an Idempotency-Key against one written without.
const keyCostName = "key cost"

// keyCostResult is each pair's two runs, unkeyed and keyed.
type keyCostResult struct {
	plain, keyed   []result
	durationPerRun time.Duration
}

// ratios are each pair's keyed/unkeyed time a request (1 / requests/s).
func (r keyCostResult) ratios() []float64 {
	return pairRatios(r.plain, r.keyed, func(x result) float64 { return x.rps })
}

// cpuRatios are each pair's keyed/unkeyed CPU a request, the server's and PostgreSQL's together.
func (r keyCostResult) cpuRatios() []float64 {
	return pairRatios(r.keyed, r.plain, func(x result) float64 { return float64(x.cpuPerRequest + x.dbCPUPerRequest) })
}

// keyCost writes posts with and without a key, alternating which goes first (A B B A …), each run from the same
// start (sameStart), on one server: one pair of runs moved between 2.6% and 35% from one invocation to the next, so the
// goal is judged on the median of pairs made in the same minutes.
func keyCost(ctx context.Context, w *wrkRunner, o options, pid int, pool *pgxpool.Pool, token string) (keyCostResult, error) {
	res := keyCostResult{durationPerRun: o.duration}
	secs := max(1, int(o.duration/time.Second))
	plain := scenario{name: "POST /api/posts, key cost pair: without a key", requests: func() []request {
		return []request{{method: http.MethodPost, path: "/api/posts", header: http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}, body: benchPost}}
	}}
	keyed := scenario{name: "POST /api/posts, key cost pair: with a key", unique: true,
		requests: func() []request { return keyedPosts(token, 4_000*secs) }}
	for i := range o.keyPairs {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, withKey := range order {
			s := plain
			if withKey {
				s = keyed
			}
			log.Printf("scenario: %s (pair %d)", s.name, i+1)
			if err := sameStart(ctx, pool); err != nil {
				return res, fmt.Errorf("before %s: %w", s.name, err)
			}
			r, err := attack(ctx, w, s, o, pid)
			if err != nil {
				return res, err
			}
			if withKey {
				res.keyed = append(res.keyed, r)
			} else {
				res.plain = append(res.plain, r)
			}
		}
	}
	return res, nil
}

// sameStart puts the tables the runs write in the same state before each: vacuumed (so that autovacuum, which
// a run's inserts may set off, does not charge one run of a pair with the work of both), the posts' trigram
// index with no pending entries (the insert that finds its pending list full merges all of it), and a
// checkpoint (after which a write logs each page it first touches in full).
func sameStart(ctx context.Context, pool *pgxpool.Pool) error {
	for _, q := range []string{"VACUUM posts, idempotency_keys", "SELECT gin_clean_pending_list('posts_title_trgm_idx')", "CHECKPOINT"} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// pairs describes each pair, unkeyed → keyed: requests/s, CPU a request (server + PostgreSQL) and WAL a request.
func (r keyCostResult) pairs() string {
	var out []string
	for i := range r.keyed {
		p, k := r.plain[i], r.keyed[i]
		out = append(out, fmt.Sprintf("%.0f → %.0f req/s, %s + %s → %s + %s CPU, %.1f → %.1f KB WAL",
			p.rps, k.rps, p.cpuPerRequest.Round(time.Microsecond), p.dbCPUPerRequest.Round(time.Microsecond),
			k.cpuPerRequest.Round(time.Microsecond), k.dbCPUPerRequest.Round(time.Microsecond), p.walPerRequest/1e3, k.walPerRequest/1e3))
	}
	return strings.Join(out, "; ")
}

// logKeyCost logs the comparison's figures, if it ran.
func logKeyCost(r keyCostResult) {
	if len(r.keyed) == 0 {
		return
	}
	log.Printf("key cost pairs (without → with): %s", r.pairs())
	log.Printf("key cost: median %+.1f%% time a request, %+.1f%% CPU a request (server and PostgreSQL)",
		100*(median(r.ratios())-1), 100*(median(r.cpuRatios())-1))
}
