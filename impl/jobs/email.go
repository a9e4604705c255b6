package jobs

import (
	"context"
	"errors"
	"fmt"
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
}

// Work sends one email. An unknown type is cancelled at once: no retry can fix it.
func (w *EmailWorker) Work(ctx context.Context, job *river.Job[service.EmailArgs]) error {
	a := job.Args
	var token string
	if a.SealedToken != "" {
		var err error
		if token, err = w.open(a.SealedToken); err != nil {
			return river.JobCancel(fmt.Errorf("open the reset token: %w", err)) // another key: no retry can help
		}
	}
	data := map[string]any{
		"Name": a.Name, "To": a.To, "BaseURL": w.baseURL, "Token": token, "ExpiresIn": a.ExpiresIn,
		"PostID": a.PostID, "PostTitle": a.PostTitle, "ActorName": a.ActorName, "Excerpt": a.Excerpt,
		"PaymentID": a.PaymentID, "Amount": a.Amount,
	}
	subject, text, html, err := w.templates.Render(a.Type, data)
	if errors.Is(err, mail.ErrUnknownType) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	return w.sender.Send(ctx, mail.Message{
		MessageID: messageID(job.ID, w.domain),
		Type:      a.Type,
		To:        a.To,
		Subject:   subject,
		Text:      text,
		HTML:      html,
		JobID:     job.ID,
	})
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
