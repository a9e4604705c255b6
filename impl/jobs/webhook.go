package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/impl/service"
)

// WebhookWorker processes stored webhook events. Processing is idempotent, so retries and replays are safe.
type WebhookWorker struct {
	river.WorkerDefaults[service.ProcessWebhookArgs]
	svcs    *Services
	backoff time.Duration
}

// Work applies the event. An event that no longer exists is cancelled: no retry can bring it back.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[service.ProcessWebhookArgs]) error {
	err := w.svcs.Billing.Process(ctx, job.Args.EventID)
	if service.ErrorCode(err) == service.ENOTFOUND {
		return river.JobCancel(err)
	}
	return err
}

// NextRetry backs off like email jobs do.
func (w *WebhookWorker) NextRetry(job *river.Job[service.ProcessWebhookArgs]) time.Time {
	return time.Now().Add(backoff(w.backoff, job.Attempt))
}
