package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/service"
)

// EmailWorker renders an email from its template and sends it.
type EmailWorker struct {
	river.WorkerDefaults[service.EmailArgs]
	templates *mail.Templates
	sender    mail.Sender
	domain    string
	baseURL   string
	backoff   time.Duration
	open      func(sealed string) (string, error)
	// svcs.Emails remembers which jobs' messages the mail server accepted. River runs a job at least once:
	// after a crash, a job whose email went out may run again because its completion was not yet written, and
	// the record makes that run a no-op. What remains is the moment between the server's acceptance and the
	// record, which the stable Message-ID lets a receiver recognise.
	svcs   *Services
	logger *slog.Logger
}

// Work sends one email, once. An unknown type is cancelled at once: no retry can fix it.
func (w *EmailWorker) Work(ctx context.Context, job *river.Job[service.EmailArgs]) error {
	id := messageID(job.ID, w.domain)
	// A first attempt cannot have sent anything yet, so only a later one pays for the lookup.
	if job.Attempt > 1 {
		sent, err := w.svcs.Emails.Delivered(ctx, job.ID)
		if err != nil {
			return err
		}
		if sent {
			return nil
		}
	}
	a := job.Args
	var token string
	if a.SealedToken != "" {
		var err error
		if token, err = w.open(a.SealedToken); err != nil {
			return river.JobCancel(fmt.Errorf("open the reset token: %w", err)) // another key: no retry can help
		}
	}
	data := mail.Data{
		Name: a.Name, To: a.To, BaseURL: w.baseURL, Token: token, ExpiresIn: a.ExpiresIn,
		PostID: a.PostID, PostTitle: a.PostTitle, ActorName: a.ActorName, Excerpt: a.Excerpt,
		PaymentID: a.PaymentID, Amount: a.Amount, NewEmail: a.NewEmail,
		EndpointID: a.EndpointID, EndpointURL: a.EndpointURL, DisabledReason: a.DisabledReason,
	}
	subject, text, html, err := w.templates.Render(string(a.Type), data)
	if errors.Is(err, mail.ErrUnknownType) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	err = w.sender.Send(ctx, mail.Message{
		MessageID: id,
		Type:      string(a.Type),
		To:        a.To,
		Subject:   subject,
		Text:      text,
		HTML:      html,
		JobID:     job.ID,
		Secrets:   secrets(token),
	})
	if err != nil {
		return err
	}
	// The server has the message: from here on no error may send it again, so a failed record is logged and the
	// job still completes. The context may be ending (a job timeout), which must not lose the record.
	if err := w.svcs.Emails.RecordDelivery(context.WithoutCancel(ctx), job.ID, id); err != nil {
		w.logger.ErrorContext(ctx, "email sent but its delivery not recorded: a crash before the job completes would send it again",
			"job_id", job.ID, "message_id", id, "err", err)
	}
	return nil
}

// secrets lists the values in a message that only its recipient may read.
func secrets(token string) []string {
	if token == "" {
		return nil
	}
	return []string{token}
}

// messageID is the same for every attempt of a job, so a retried send is recognisable downstream.
func messageID(jobID int64, domain string) string {
	return fmt.Sprintf("<email-job-%d@%s>", jobID, domain)
}

// NextRetry backs off exponentially from the base delay (2 s by default: 2 s, 4 s, ...), with ±25% jitter so
// that a burst of failures does not retry in lockstep.
func (w *EmailWorker) NextRetry(job *river.Job[service.EmailArgs]) time.Time {
	return time.Now().Add(backoff(w.backoff, job.Attempt))
}

func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(max(attempt-1, 0), 20)
	jitter := 0.75 + rand.Float64()/2
	return time.Duration(float64(d) * jitter)
}
