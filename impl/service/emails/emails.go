// Package emails keeps the record of emails sent: which jobs' messages a mail server accepted (so that a retried
// job does not send twice), and, for the log transport, the messages themselves.
package emails

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// Service records sent emails. It is safe for concurrent use.
type Service struct {
	core     *core.Core
	recorder *recorder
}

// New returns a Service over c.
func New(c *core.Core) *Service {
	s := &Service{core: c}
	s.recorder = &recorder{write: s.writeRecords}
	return s
}

// Delivered reports whether the message of email job jobID was accepted by a mail server.
func (s *Service) Delivered(ctx context.Context, jobID int64) (bool, error) {
	sent, err := s.core.Queries.EmailDeliveryExists(ctx, s.core.DB, jobID)
	if err != nil {
		return false, fmt.Errorf("look up the delivery: %w", err)
	}
	return sent, nil
}

// RecordDelivery remembers that the message of email job jobID, messageID, was accepted by a mail server. It
// returns once the record is committed; records made at the same moment share a statement and a commit.
func (s *Service) RecordDelivery(ctx context.Context, jobID int64, messageID string) error {
	if err := s.recorder.add(ctx, jobID, messageID); err != nil {
		return fmt.Errorf("record the delivery: %w", err)
	}
	return nil
}

// RecordSent keeps an email that was "sent" without a mail server, so that development and tests can read it.
func (s *Service) RecordSent(ctx context.Context, e service.SentEmail) error {
	err := s.core.Queries.SentEmailCreate(ctx, s.core.DB, db.SentEmailCreateParams{
		JobID: e.JobID, MessageID: e.MessageID, Type: string(e.Type), ToAddress: e.To, Subject: e.Subject, TextBody: e.Text, HtmlBody: e.HTML,
	})
	if err != nil {
		return fmt.Errorf("record sent email: %w", err)
	}
	return nil
}

// SentTo returns the newest emails the log transport kept for address.
func (s *Service) SentTo(ctx context.Context, address string) ([]service.SentEmail, error) {
	rows, err := s.core.Queries.SentEmailListByRecipient(ctx, s.core.DB, address)
	if err != nil {
		return nil, fmt.Errorf("sent emails: %w", err)
	}
	out := make([]service.SentEmail, len(rows))
	for i, r := range rows {
		out[i] = service.SentEmail{JobID: r.JobID, MessageID: r.MessageID, Type: service.EmailKind(r.Type), To: r.ToAddress, Subject: r.Subject, Text: r.TextBody, HTML: r.HtmlBody}
	}
	return out, nil
}
