package jobs_test

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/jobs"
	"github.com/junction-dev/junction/impl/lifecycle"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/mailtest"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/wire"
	"github.com/junction-dev/junction/impl/servicetest"
)

type testBundle struct {
	pool *pgxpool.Pool
	// session is the pool of direct connections River listens on, with throughPgBouncer; nil otherwise.
	session *pgxpool.Pool
	river   *jobs.Client
	svc     *wire.Services
	smtp    *mailtest.Server
	logs    *logtest.Buffer
	tokens  *auth.Tokens
	sealer  *auth.Sealer
}

const testSecret = "a test secret that is 32 bytes long"

// setup works jobs for real: a River client on a fresh database, sending through an SMTP server on loopback.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, setupOptions{})
}

// setupOptions change what setupWith builds.
type setupOptions struct {
	// logTransport sends emails to the log transport (kept in sent_emails) instead of SMTP.
	logTransport bool
	// schedule is the delays between a webhook delivery's attempts (none retries nothing); now the services'
	// clock; webhookClient what deliveries are sent with (the default allows loopback receivers).
	schedule      retry.Schedule
	now           func() time.Time
	webhookClient *http.Client
	// throughPgBouncer runs River and the services through the tests' PgBouncer (transaction pooling), and
	// listens on direct connections, as the service does with DATABASE_SESSION_URL.
	throughPgBouncer bool
	// tracerProvider traces inserts, work and attempts (nil: none).
	tracerProvider trace.TracerProvider
}

// setupWith is setup changed by o.
func setupWith(t *testing.T, o setupOptions) *testBundle {
	t.Helper()
	var pool, session *pgxpool.Pool
	if o.throughPgBouncer {
		pool, session = dbtest.NewThroughPgBouncer(t)
	} else {
		pool = dbtest.New(t)
	}
	smtp := mailtest.Start(t)
	logger, logs := logtest.New()
	templates, err := mail.NewTemplates()
	require.NoError(t, err)
	var svc *wire.Services
	var sender mail.Sender
	if o.logTransport {
		sender = mail.NewLog(logger, func(ctx context.Context, m mail.Message) error {
			return svc.Emails.RecordSent(ctx, service.SentEmail{
				JobID: m.JobID, MessageID: m.MessageID, Type: service.EmailKind(m.Type), To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			})
		})
	} else {
		sender, err = mail.NewSMTP(smtp.URL(), "Junction <no-reply@junction.test>", nil, o.tracerProvider)
		require.NoError(t, err)
	}
	sealer, err := auth.NewSealer([]byte(testSecret))
	require.NoError(t, err)
	workerServices := &jobs.Services{}
	client, err := jobs.NewClient(pool, jobs.Config{
		Open: sealer.Open,
		Work: true, WebhookRetryBase: 20 * time.Millisecond,
		JobsConfig: config.JobsConfig{
			EmailConcurrency: 5, EmailRetryBase: 20 * time.Millisecond, CompletedRetention: time.Hour, DiscardedRetention: time.Hour,
			JobTimeout: 10 * time.Second, RescueStuckAfter: time.Minute, FetchCooldown: 10 * time.Millisecond,
		},
		WebhookClient:      cmp.Or(o.webhookClient, outbound.NewClient(outbound.Policy{AllowPrivate: true}, time.Second, 2*time.Second, 0)),
		WebhookConcurrency: 10,
		Services:           workerServices,
		Listen:             session,
		TracerProvider:     o.tracerProvider,
		Templates:          templates, Sender: sender, MailDomain: "junction.test", BaseURL: "http://junction.test", Logger: logger,
	})
	require.NoError(t, err)
	tokens, err := auth.NewTokens([]byte(testSecret), "junction", "junction-api", time.Hour)
	require.NoError(t, err)
	svc = servicetest.New(t, pool, servicetest.Options{
		Jobs: client, Session: session, Tokens: tokens, Sealer: sealer, Logger: logger,
		WebhookTargets: outbound.Policy{AllowPrivate: true}, WebhookSchedule: o.schedule, Now: o.now,
	})
	*workerServices = jobs.Services{Billing: svc.Billing, Accounts: svc.Accounts, Emails: svc.Emails, Endpoints: svc.Endpoints, Idempotency: svc.Idempotency}
	servicetest.Start(t, logger, lifecycle.Named{Name: "river workers", Component: client})
	return &testBundle{pool: pool, session: session, river: client, svc: svc, smtp: smtp, logs: logs, tokens: tokens, sealer: sealer}
}

// waitJob waits until the only email job reaches state and returns its attempt count.
func (b *testBundle) waitJob(t *testing.T, state string) int {
	t.Helper()
	var got string
	var attempt int
	require.Eventually(t, func() bool {
		err := b.pool.QueryRow(context.Background(),
			"SELECT state::text, attempt FROM river_job WHERE kind = 'email' ORDER BY id DESC LIMIT 1").Scan(&got, &attempt)
		return err == nil && got == state
	}, 20*time.Second, 20*time.Millisecond, "job state %q, want %q", got, state)
	return attempt
}

func TestWelcomeEmailIsDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.svc.Users.Create(context.Background(), service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)

	got := b.smtp.WaitAccepted(t, 1, 20*time.Second)
	require.Len(t, got, 1)
	m := got[0]
	require.Equal(t, []string{"ada@example.com"}, m.To)
	require.Equal(t, "no-reply@junction.test", m.From)
	require.Equal(t, "Welcome to Junction, Ada", m.Header.Get("Subject"))
	require.Contains(t, m.Body(), "Hello Ada")
	require.Contains(t, m.Raw, "text/html", "an HTML part")
	require.Contains(t, m.Raw, "text/plain", "and a text part")
	require.Equal(t, 1, b.waitJob(t, "completed"))
	var jobID int64
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT id FROM river_job WHERE kind = 'email'").Scan(&jobID))
	require.Equal(t, "<email-job-"+itoa(jobID)+"@junction.test>", m.Header.Get("Message-Id"))
	require.Contains(t, b.logs.String(), `"msg":"job completed"`)
}

func TestEmailRetriesThenDelivers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.smtp.FailNext(2)
	_, err := b.svc.Users.Create(context.Background(), service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)

	b.smtp.WaitAccepted(t, 1, 20*time.Second)
	require.Equal(t, 3, b.waitJob(t, "completed"), "delivered on attempt 3")
	all := b.smtp.All()
	require.Len(t, all, 3)
	for _, m := range all {
		require.Equal(t, all[0].Header.Get("Message-Id"), m.Header.Get("Message-Id"), "every attempt carries the same Message-ID")
	}
	require.Equal(t, 2, strings.Count(b.logs.String(), `"msg":"job failed; will retry"`))
}

// TestEmailJobRunAgainDoesNotResend runs a completed email job a second time, as a crash before River wrote its
// completion would (or a retry from the admin UI): the message already went out, so it is not sent again.
func TestEmailJobRunAgainDoesNotResend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	b.smtp.WaitAccepted(t, 1, 20*time.Second)
	require.Equal(t, 1, b.waitJob(t, "completed"))
	var jobID int64
	var recorded int
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT id FROM river_job WHERE kind = 'email'").Scan(&jobID))
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM email_deliveries WHERE job_id = $1", jobID).Scan(&recorded))
	require.Equal(t, 1, recorded, "the delivery is recorded")

	_, err = b.river.JobRetry(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, 2, b.waitJob(t, "completed"), "the job ran again")
	require.Len(t, b.smtp.All(), 1, "and sent nothing")
}

func TestEmailDiscardedAfterThreeAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.smtp.FailNext(-1)
	_, err := b.svc.Users.Create(context.Background(), service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)

	require.Equal(t, 3, b.waitJob(t, "discarded"))
	require.Len(t, b.smtp.All(), 3)
	require.Contains(t, b.logs.String(), `"msg":"job failed for good; discarded"`)
}

func TestUnknownEmailTypeIsCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.river.Insert(context.Background(), service.EmailArgs{Type: "birthday", To: "ada@example.com"}, nil)
	require.NoError(t, err)

	require.Equal(t, 1, b.waitJob(t, "cancelled"), "cancelled after one attempt, without retries")
	require.Empty(t, b.smtp.All())
	require.Contains(t, b.logs.String(), `"msg":"job cancelled"`)
}

func TestCommentNotifiesThePostAuthor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	grace, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: "Grace", Email: "grace@example.com", Password: "long enough"})
	require.NoError(t, err)
	b.smtp.WaitAccepted(t, 2, 20*time.Second) // the welcomes

	adaCtx := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID})
	post, err := b.svc.Posts.Create(adaCtx, service.CreatePostInput{Title: "Engines", Content: "On engines.", Published: true})
	require.NoError(t, err)
	_, err = b.svc.Comments.Create(adaCtx, post.ID, "My own comment: no email")
	require.NoError(t, err)
	graceCtx := service.NewContextWithActor(ctx, service.Actor{UserID: grace.ID})
	_, err = b.svc.Comments.Create(graceCtx, post.ID, "Lovely engines")
	require.NoError(t, err)

	got := b.smtp.WaitAccepted(t, 3, 20*time.Second)
	n := got[2]
	require.Equal(t, []string{"ada@example.com"}, n.To)
	require.Equal(t, `Grace commented on "Engines"`, n.Header.Get("Subject"))
	require.Contains(t, n.Body(), "Lovely engines")
	time.Sleep(200 * time.Millisecond)
	require.Len(t, b.smtp.All(), 3, "commenting on one's own post sends nothing")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
