package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/impl/service"
)

// PasswordResetWorker does the work of a password-reset request (the accounts service's SendPasswordReset): the request
// only queued this job, whether or not the account exists, so that it answers alike for every email.
type PasswordResetWorker struct {
	river.WorkerDefaults[service.PasswordResetArgs]
	svcs    *Services
	backoff time.Duration
}

// Work looks the account up and, if it exists, issues a token and queues its email.
func (w *PasswordResetWorker) Work(ctx context.Context, job *river.Job[service.PasswordResetArgs]) error {
	return w.svcs.Accounts.SendPasswordReset(ctx, job.Args.Email)
}

// NextRetry backs off like email jobs do.
func (w *PasswordResetWorker) NextRetry(job *river.Job[service.PasswordResetArgs]) time.Time {
	return time.Now().Add(backoff(w.backoff, job.Attempt))
}
