// Package metrics exposes Junction's Prometheus metrics: HTTP requests by route and status, the database pool,
// River jobs by kind and state, webhook events by status, and whether the rate limits are shared through Redis.
// Counts that live in the database are read at scrape time, so every instance reports the same totals and nothing
// has to be kept in step.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/junction-dev/junction/impl/service"
)

// Counts are the database counts a scrape reports; the service provides them.
type Counts interface {
	JobCounts(ctx context.Context) ([]service.Count, error)
	WebhookEventCounts(ctx context.Context) ([]service.Count, error)
	// WebhookDeliveryCounts counts the outgoing deliveries pending and failed (A); DisabledEndpointCounts counts the
	// endpoints Junction disabled by reason (A).
	WebhookDeliveryCounts(ctx context.Context) ([]service.Count, error)
	DisabledEndpointCounts(ctx context.Context) ([]service.Count, error)
}

// Metrics is one registry with Junction's collectors.
type Metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	// The rate limits' store (impl/ratelimit): whether they are shared through Redis, how often they fell back
	// to the instance's own, and how many decisions were taken there.
	limitsShared    prometheus.Gauge
	limitFallbacks  prometheus.Counter
	limitLocalCalls prometheus.Counter
	// series holds each request series' counter and histogram once looked up (a requestKey's requestSeries), so
	// that a request costs one map look-up instead of two label hashes, two locks and a status string each.
	series sync.Map
}

type requestKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New registers the collectors for pool and counts.
func New(pool *pgxpool.Pool, counts Counts, logger *slog.Logger) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "junction_http_request_duration_seconds", Help: "HTTP request duration by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_webhook_attempts_total",
			Help: "Outgoing webhook attempts by outcome: succeeded, rejected (not a 2xx), unreachable (no answer), skipped (endpoint disabled).",
		}, []string{"outcome"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "junction_webhook_attempt_duration_seconds", Help: "Outgoing webhook attempt duration by outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"outcome"}),
		limitsShared: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "junction_rate_limit_shared",
			Help: "1 while the rate limits are kept in Redis, shared by every instance; 0 while this instance limits on its own (no REDIS_URL, or Redis not answering).",
		}),
		limitFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "junction_rate_limit_fallbacks_total",
			Help: "Times the rate limits fell back to this instance's own because Redis did not answer (at start included).",
		}),
		limitLocalCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "junction_rate_limit_fallback_decisions_total",
			Help: "Rate-limit decisions taken by this instance alone because Redis did not answer.",
		}),
	}
	m.registry.MustRegister(
		m.requests, m.duration, m.attempts, m.attemptDuration, m.limitsShared, m.limitFallbacks, m.limitLocalCalls,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&poolCollector{pool: pool},
		&countsCollector{counts: counts, logger: logger},
	)
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveRequest counts and times one request by its route pattern and method (impl/httpapi reports each). Both
// are bounded whatever clients send: a path no route matched (route "") is "unmatched" (ids in paths would explode
// the series), and a method other than the ones HTTP defines is "other".
func (m *Metrics) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = knownMethod(method)
	key := requestKey{route: route, method: method, status: status}
	v, ok := m.series.Load(key)
	if !ok {
		// The labels are bounded (route patterns, known methods, statuses), and so is the map.
		v, _ = m.series.LoadOrStore(key, requestSeries{
			count:    m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route, method),
		})
	}
	s := v.(requestSeries)
	s.count.Inc()
	s.duration.Observe(elapsed.Seconds())
}

// ObserveWebhookAttempt counts and times one outgoing webhook attempt by its outcome (impl/jobs reports each).
func (m *Metrics) ObserveWebhookAttempt(outcome string, elapsed time.Duration) {
	m.attempts.WithLabelValues(outcome).Inc()
	m.attemptDuration.WithLabelValues(outcome).Observe(elapsed.Seconds())
}

// ObserveRateLimitShared records that the rate limits are shared through Redis now, or that they fell back to
// this instance's own (impl/ratelimit.Redis reports each switch).
func (m *Metrics) ObserveRateLimitShared(shared bool) {
	if shared {
		m.limitsShared.Set(1)
		return
	}
	m.limitsShared.Set(0)
	m.limitFallbacks.Inc()
}

// ObserveRateLimitFallback counts one rate-limit decision taken by this instance alone while Redis did not answer.
func (m *Metrics) ObserveRateLimitFallback() { m.limitLocalCalls.Inc() }

// knownMethod is method when HTTP defines it (RFC 9110, and PATCH), else "other".
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

var (
	poolAcquired = prometheus.NewDesc("junction_db_pool_acquired_connections", "Connections in use.", nil, nil)
	poolIdle     = prometheus.NewDesc("junction_db_pool_idle_connections", "Idle connections.", nil, nil)
	poolTotal    = prometheus.NewDesc("junction_db_pool_total_connections", "Open connections.", nil, nil)
	poolMax      = prometheus.NewDesc("junction_db_pool_max_connections", "The pool's size.", nil, nil)
	poolWaiting  = prometheus.NewDesc("junction_db_pool_waited_acquires_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWaitTime = prometheus.NewDesc("junction_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
	jobs         = prometheus.NewDesc("junction_river_jobs", "River jobs by kind and state.", []string{"kind", "state"}, nil)
	webhooks     = prometheus.NewDesc("junction_webhook_events", "Stored webhook events by provider and status.", []string{"provider", "status"}, nil)
	deliveries   = prometheus.NewDesc("junction_webhook_deliveries", "Outgoing webhook deliveries waiting for an attempt (pending) or given up on (failed); successes are junction_webhook_attempts_total.", []string{"status"}, nil)
	disabled     = prometheus.NewDesc("junction_webhook_endpoints_disabled", "Webhook endpoints Junction disabled, by reason (gone, failing).", []string{"reason"}, nil)
)

type poolCollector struct{ pool *pgxpool.Pool }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolWaiting, poolWaitTime} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolWaiting, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds())
}

type countsCollector struct {
	counts Counts
	logger *slog.Logger
}

func (c *countsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobs
	ch <- webhooks
	ch <- deliveries
	ch <- disabled
}

func (c *countsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, g := range []struct {
		desc   *prometheus.Desc
		labels int
		read   func(context.Context) ([]service.Count, error)
	}{
		{jobs, 2, c.counts.JobCounts}, {webhooks, 2, c.counts.WebhookEventCounts},
		{deliveries, 1, c.counts.WebhookDeliveryCounts}, {disabled, 1, c.counts.DisabledEndpointCounts},
	} {
		rows, err := g.read(ctx)
		if err != nil {
			// A scrape during a database outage reports what it can rather than failing whole.
			c.logger.WarnContext(ctx, "metrics: read counts", "err", err)
			continue
		}
		for _, r := range rows {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(r.N), []string{r.A, r.B}[:g.labels]...)
		}
	}
}
