package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/postgres"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
)

type noopSender struct{}

func (noopSender) Send(context.Context, mail.Message) error { return nil }

// benchJobs are the job settings of the bench's River clients: Junction's, and River's own yardstick beside it.
var benchJobs = config.JobsConfig{
	EmailConcurrency: 100, EmailRetryBase: time.Second, CompletedRetention: time.Hour, DiscardedRetention: time.Hour,
	JobTimeout: time.Minute, RescueStuckAfter: time.Hour, FetchCooldown: 10 * time.Millisecond,
}

// benchWebhookWorkers is the webhook queue's worker count in the bench.
const benchWebhookWorkers = 100

// workers returns a River client that works every queue (100 workers each; email through a no-op transport,
// webhooks to any address, loopback included) and the services over pool, wired to each other as cmd/junction
// wires them. The client is not started.
func workers(pool *pgxpool.Pool) (*jobs.Client, *wire.Services, error) {
	templates, err := mail.NewTemplates()
	if err != nil {
		return nil, nil, err
	}
	sealer, err := auth.NewSealer([]byte("a bench secret that is 32 bytes long"))
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	local := outbound.Policy{AllowPrivate: true}
	workerServices := &jobs.Services{}
	client, err := jobs.NewClient(pool, jobs.Config{
		Work: true, WebhookRetryBase: time.Second, JobsConfig: benchJobs,
		WebhookClient: outbound.NewClient(local, 0, 0, benchWebhookWorkers), WebhookConcurrency: benchWebhookWorkers,
		Templates: templates, Sender: noopSender{}, MailDomain: "bench.local", BaseURL: "http://bench.local",
		Services: workerServices, Open: sealer.Open, Logger: logger,
	})
	if err != nil {
		return nil, nil, err
	}
	svcs := wire.New(wire.Deps{
		Pool: pool, Jobs: client, Sealer: sealer, Hasher: password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}),
		WebhookTargets: local, Logger: logger,
	})
	*workerServices = jobs.Services{Billing: svcs.Billing, Accounts: svcs.Accounts, Emails: svcs.Emails, Endpoints: svcs.Endpoints, Idempotency: svcs.Idempotency}
	return client, svcs, nil
}

// servicePool opens a pool as the service does (postgres.Connect: its settings and the types it registers), of
// conns connections (0 for pgx's default).
func servicePool(ctx context.Context, dbURL string, conns int32) (*pgxpool.Pool, error) {
	if conns == 0 {
		conns = int32(max(4, runtime.NumCPU()))
	}
	return postgres.Connect(ctx, dbURL, config.DBConfig{
		MaxConns: conns, MaxConnIdleTime: time.Minute, MaxConnLifetime: time.Hour, ConnectTimeout: 5 * time.Second,
		WaitTimeout: 10 * time.Second,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// perSecond waits until count (a query returning one number) reaches n, and returns n per second since begin.
func perSecond(ctx context.Context, pool *pgxpool.Pool, count string, n int, begin time.Time) (float64, error) {
	for {
		var done int
		if err := pool.QueryRow(ctx, count).Scan(&done); err != nil {
			return 0, err
		}
		if done >= n {
			return float64(n) / time.Since(begin).Seconds(), nil
		}
		if time.Since(begin) > 5*time.Minute {
			return 0, fmt.Errorf("only %d of %d done in 5 minutes (%s)", done, n, count)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobRates are email jobs completed per second and, in the same run, River's own rate for jobs that do nothing.
type jobRates struct {
	email, river float64
	// What a job cost: this process's CPU (the River client and the workers) and PostgreSQL's, per job.
	emailCPU, riverCPU, emailDBCPU, riverDBCPU time.Duration
}

// jobThroughput works n email jobs with a no-op transport, and n jobs of a no-op worker on a bare River client
// with the same settings over a pool of the same size: what River itself reaches here, and so what Junction's
// email work costs beyond it.
func jobThroughput(ctx context.Context, dbURL string, o options, n int) (jobRates, error) {
	var r jobRates
	river, err := riverThroughput(ctx, dbURL, o, n)
	if err != nil {
		return r, fmt.Errorf("river's own: %w", err)
	}
	email, err := emailThroughput(ctx, dbURL, o, n)
	if err != nil {
		return r, fmt.Errorf("email jobs: %w", err)
	}
	r.river, r.riverCPU, r.riverDBCPU = river.perSec, river.cpu, river.dbCPU
	r.email, r.emailCPU, r.emailDBCPU = email.perSec, email.cpu, email.dbCPU
	return r, nil
}

// jobRun is what working a batch of jobs took: jobs per second, and this process's and PostgreSQL's CPU a job.
type jobRun struct {
	perSec     float64
	cpu, dbCPU time.Duration
}

// emailThroughput inserts n email jobs, then works them with a no-op transport and returns jobs completed per second.
func emailThroughput(ctx context.Context, dbURL string, o options, n int) (jobRun, error) {
	pool, err := servicePool(ctx, dbURL, 0)
	if err != nil {
		return jobRun{}, err
	}
	defer pool.Close()
	// The email worker records deliveries through the emails service, as in production.
	client, _, err := workers(pool)
	if err != nil {
		return jobRun{}, err
	}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: service.EmailArgs{Type: service.EmailWelcome, To: fmt.Sprintf("u%d@example.com", i), Name: "Bench"}}
	}
	return workAll(ctx, pool, client.Client, params, o, "jobs-email")
}

// noopArgs is the job of River's yardstick: it does nothing, on the email queue.
type noopArgs struct{}

func (noopArgs) Kind() string { return "bench_noop" }

func (noopArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: service.EmailQueue} }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// riverThroughput is River's own rate here: n jobs of a worker that does nothing, on a River client with the
// queues, worker counts, fetch cooldown, timeouts and retention of Junction's, over a pool of the same size; no
// middleware.
func riverThroughput(ctx context.Context, dbURL string, o options, n int) (jobRun, error) {
	pool, err := servicePool(ctx, dbURL, 0)
	if err != nil {
		return jobRun{}, err
	}
	defer pool.Close()
	w := river.NewWorkers()
	if err := river.AddWorkerSafely(w, noopWorker{}); err != nil {
		return jobRun{}, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Workers: w,
		Queues: map[string]river.QueueConfig{
			river.QueueDefault:   {MaxWorkers: 10, FetchCooldown: benchJobs.FetchCooldown},
			service.EmailQueue:   {MaxWorkers: benchJobs.EmailConcurrency, FetchCooldown: benchJobs.FetchCooldown},
			service.WebhookQueue: {MaxWorkers: benchWebhookWorkers, FetchCooldown: benchJobs.FetchCooldown},
		},
		CompletedJobRetentionPeriod: benchJobs.CompletedRetention,
		DiscardedJobRetentionPeriod: benchJobs.DiscardedRetention,
		CancelledJobRetentionPeriod: benchJobs.DiscardedRetention,
		JobTimeout:                  benchJobs.JobTimeout,
		RescueStuckJobsAfter:        benchJobs.RescueStuckAfter,
	})
	if err != nil {
		return jobRun{}, err
	}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: noopArgs{}}
	}
	return workAll(ctx, pool, client, params, o, "jobs-river")
}

// workAll empties the job table, inserts params, then starts client and measures the work until every job has
// completed (with -profile, a CPU profile of this process named profile).
func workAll(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], params []river.InsertManyParams, o options, profile string) (jobRun, error) {
	if _, err := pool.Exec(ctx, "DELETE FROM river_job"); err != nil {
		return jobRun{}, err
	}
	for start := 0; start < len(params); start += 1000 {
		if _, err := client.InsertMany(ctx, params[start:min(start+1000, len(params))]); err != nil {
			return jobRun{}, fmt.Errorf("insert jobs: %w", err)
		}
	}
	if o.profile {
		stop, err := profileSelf(profile)
		if err != nil {
			return jobRun{}, err
		}
		defer stop()
	}
	cpu0, db0 := processCPU(os.Getpid()), serverCPU(o.postmaster)
	begin := time.Now()
	if err := client.Start(ctx); err != nil {
		return jobRun{}, err
	}
	defer func() { _ = client.Stop(context.WithoutCancel(ctx)) }()
	perSec, err := perSecond(ctx, pool, "SELECT count(*) FROM river_job WHERE state = 'completed'", len(params), begin)
	n := time.Duration(len(params))
	return jobRun{perSec: perSec, cpu: (processCPU(os.Getpid()) - cpu0) / n, dbCPU: (serverCPU(o.postmaster) - db0) / n}, err
}
