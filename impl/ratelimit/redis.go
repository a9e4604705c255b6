package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Redis is a [Store] in Redis, shared by every instance that uses the same server: N instances together allow what
// one would. It runs the same GCRA as [Memory] (redis_rate's script, on Redis's clock), and its decisions are the
// ones Memory would make (see decisionOf).
//
// While Redis does not answer, every decision is the fallback store's, so limits stay in force, per instance,
// rather than failing open or refusing everyone. The fallback counts every request even while Redis answers, so
// that a client who spent its quota through this instance finds it spent when the instance falls back. The
// switch is logged once each way and reported to the [Observer]; a request meets a dead Redis at most once per
// outage (and waits at most [RedisConfig.Timeout] then), after which a background probe alone asks Redis whether
// it is back.
//
// redis_rate computes in floating-point seconds since 2017, which resolve about a tenth of a microsecond: a quota
// of more than a million a second per key (one back every microsecond or less) is not counted exactly, where
// Memory's nanoseconds would be. No limit of Junction's comes near.
//
// Redis is a component: [Redis.Start] finds out whether Redis answers and starts the probe; until then, and after
// [Redis.Stop], decisions are the fallback's.
type Redis struct {
	client     *redis.Client
	limiter    *redis_rate.Limiter
	fallback   Store
	prefix     string
	timeout    time.Duration
	probeEvery time.Duration
	observer   Observer
	logger     *slog.Logger

	// shared is true while decisions come from Redis.
	shared atomic.Bool

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Observer hears how the limits are kept, for metrics.
type Observer interface {
	// ObserveRateLimitShared is called with false when the limits fall back to the instance's own store because
	// Redis does not answer (and at start when it does not), and with true when they are shared through Redis.
	ObserveRateLimitShared(shared bool)
	// ObserveRateLimitFallback counts one decision taken in this instance alone because Redis did not answer.
	ObserveRateLimitFallback()
}

// RedisConfig configures [NewRedis].
type RedisConfig struct {
	// URL is the server: redis://[user:password@]host:port[/db], rediss:// for TLS, or unix:///path/to/socket
	// (REDIS_URL).
	URL string
	// Timeout bounds connecting, waiting for a pooled connection, and each read and write, and so how long a
	// request can wait on a Redis that stopped answering before the limits fall back (REDIS_TIMEOUT). Nothing is
	// retried: a retry would double the wait. Zero is 100 ms.
	Timeout time.Duration
	// ProbeEvery is how often, while Redis does not answer, it is asked whether it answers again; zero is a second.
	ProbeEvery time.Duration
	// Prefix starts every key, so that several deployments can share a server; "" is "junction:". redis_rate puts
	// "rate:" before it.
	Prefix string
	// Fallback decides while Redis does not answer: the instance's own limits (a [Memory]). Required.
	Fallback Store
	// Observer, when set, hears of every switch and every fallback decision.
	Observer Observer
	Logger   *slog.Logger
}

// NewRedis returns a Redis store for cfg. It does not connect: [Redis.Start] does.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Fallback == nil {
		return nil, errors.New("ratelimit: a Redis store needs a fallback store")
	}
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// url.Error quotes the URL, and with it the password.
			return nil, errors.New("REDIS_URL is not a URL")
		}
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
	// No retries, of commands or of dials: each would add a wait to a request that met a dead Redis.
	opt.MaxRetries, opt.DialerRetries = -1, 1
	// Redis 7.0 knows neither CLIENT SETINFO nor maintenance notifications (a Redis Enterprise feature): asking
	// costs each new connection a round trip for nothing.
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	client := redis.NewClient(opt)
	r := &Redis{
		client: client, limiter: redis_rate.NewLimiter(client), fallback: cfg.Fallback,
		prefix: cfg.Prefix, timeout: timeout, probeEvery: cfg.ProbeEvery, observer: cfg.Observer, logger: cfg.Logger,
	}
	if r.prefix == "" {
		r.prefix = "junction:"
	}
	if r.probeEvery <= 0 {
		r.probeEvery = time.Second
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Shared reports whether decisions come from Redis now.
func (r *Redis) Shared() bool { return r.shared.Load() }

// Allow implements [Store].
func (r *Redis) Allow(ctx context.Context, p Policy, key string) (Decision, error) {
	local, err := r.fallback.Allow(ctx, p, key)
	if err != nil {
		return Decision{}, err
	}
	if !r.shared.Load() {
		r.observeFallback()
		return local, nil
	}
	res, err := r.limiter.Allow(ctx, r.prefix+p.Name+":"+key, redis_rate.Limit{Rate: p.Quota, Burst: p.Quota, Period: p.Window})
	if err != nil {
		if ctx.Err() == nil { // not the caller giving up: Redis did not answer
			r.fallBack(ctx, err)
		}
		r.observeFallback()
		return local, nil
	}
	return decisionOf(p, res), nil
}

// decisionOf is redis_rate's result as the Decision that [Memory] would have made. The two run the same GCRA,
// Burst = Rate = Quota per Period = Window, but redis_rate's script computes in floating-point seconds (relative
// to 2017) and truncates the remaining quota: 60s/7 once spent comes back as 8.571428596s, and 5 left where 6
// are. So the durations are rounded to Redis's clock's microseconds, and Remaining is computed again from Reset
// (what is left is what fits in the window beside the time until the quota is whole, Window − Reset), allowing
// for that microsecond.
func decisionOf(p Policy, res *redis_rate.Result) Decision {
	d := Decision{Policy: p, Reset: micros(res.ResetAfter)}
	if res.Allowed == 0 {
		d.RetryAfter = micros(res.RetryAfter)
		return d
	}
	d.Allowed = true
	interval := max(p.Window/time.Duration(p.Quota), 1)
	d.Remaining = min(max(0, int((p.Window-d.Reset+time.Microsecond)/interval)), p.Quota-1)
	return d
}

// micros rounds a duration from Redis to its clock's microseconds, and keeps it above zero: both are for a time
// still to come (a refused request's wait, a quota not yet whole), and the RateLimit fields round them up to the
// second, so a quota of more than one a microsecond must still show t=1, as Memory's does.
func micros(d time.Duration) time.Duration {
	return max(d.Round(time.Microsecond), min(d, time.Microsecond), 1)
}

// fallBack switches to the fallback store, logging and reporting it once, whoever else meets the same outage.
func (r *Redis) fallBack(ctx context.Context, err error) {
	if !r.shared.CompareAndSwap(true, false) {
		return
	}
	r.logger.WarnContext(ctx, "rate limits: Redis does not answer; each instance limits on its own until it does",
		"err", err.Error(), "probe_every", r.probeEvery.String())
	if r.observer != nil {
		r.observer.ObserveRateLimitShared(false)
	}
}

// share switches to Redis, logging and reporting it once.
func (r *Redis) share(ctx context.Context, again bool) {
	if !r.shared.CompareAndSwap(false, true) {
		return
	}
	if again {
		r.logger.InfoContext(ctx, "rate limits: Redis answers again; limits are shared")
	} else {
		r.logger.InfoContext(ctx, "rate limits: shared through Redis")
	}
	if r.observer != nil {
		r.observer.ObserveRateLimitShared(true)
	}
}

func (r *Redis) observeFallback() {
	if r.observer != nil {
		r.observer.ObserveRateLimitFallback()
	}
}

// ping asks Redis whether it answers a check, within the timeout: the limiter's own script and write, on a key of
// the probe's, rather than a PING, which a Redis that refuses writes (a replica after a failover, out of memory)
// or scripts (its ACL) still answers. Sharing again on a PING would only fall back at the next request, and log
// both switches, every probe.
func (r *Redis) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	// A limit no probe reaches, whose key expires a second after each probe. Not a larger one: the script adds
	// the interval to a time in seconds since 2017 as a float, and below about a microsecond it adds nothing
	// and skips its write.
	_, err := r.limiter.Allow(ctx, r.prefix+"\x00probe", redis_rate.Limit{Rate: 1000, Burst: 1000, Period: time.Second})
	return err
}

// Start asks Redis whether it answers, and starts the probe that brings the limits back to Redis after an outage.
// A Redis that does not answer does not stop the start: the instance limits on its own until it does, as during
// any outage.
func (r *Redis) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return errors.New("ratelimit: Redis store already started")
	}
	if err := r.ping(ctx); err != nil {
		r.logger.WarnContext(ctx, "rate limits: Redis does not answer; each instance limits on its own until it does",
			"err", err.Error(), "probe_every", r.probeEvery.String())
		if r.observer != nil {
			r.observer.ObserveRateLimitShared(false)
		}
	} else {
		r.share(ctx, false)
	}
	// Not ctx's cancellation: Stop ends the probe, in the order the owner chose.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel, r.done = cancel, make(chan struct{})
	go r.probe(runCtx, r.done)
	return nil
}

// probe asks Redis, every probeEvery while the limits are not shared, whether it answers again.
func (r *Redis) probe(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !r.shared.Load() && r.ping(ctx) == nil {
			r.share(ctx, true)
		}
	}
}

// Stop ends the probe and closes the connections; decisions are the fallback's from then on.
func (r *Redis) Stop(ctx context.Context) error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel == nil {
		return r.client.Close()
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("ratelimit: stop Redis probe: %w", ctx.Err())
	}
	r.shared.Store(false)
	return r.client.Close()
}
