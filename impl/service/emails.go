package service

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction/gen/db"
)

// SentEmail is an email as the log transport keeps it.
type SentEmail struct {
	JobID     int64
	MessageID string
	Type      string
	To        string
	Subject   string
	Text      string
	HTML      string
}

// RecordSentEmail keeps an email that was "sent" without a mail server, so that development and tests can read it.
func (s *Service) RecordSentEmail(ctx context.Context, e SentEmail) error {
	err := s.queries.SentEmailCreate(ctx, s.pool, db.SentEmailCreateParams{
		JobID: e.JobID, MessageID: e.MessageID, Type: e.Type, ToAddress: e.To, Subject: e.Subject, TextBody: e.Text, HtmlBody: e.HTML,
	})
	if err != nil {
		return fmt.Errorf("record sent email: %w", err)
	}
	return nil
}

// SentEmailsTo returns the newest emails the log transport kept for address.
func (s *Service) SentEmailsTo(ctx context.Context, address string) ([]SentEmail, error) {
	rows, err := s.queries.SentEmailListByRecipient(ctx, s.pool, address)
	if err != nil {
		return nil, fmt.Errorf("sent emails: %w", err)
	}
	out := make([]SentEmail, len(rows))
	for i, r := range rows {
		out[i] = SentEmail{JobID: r.JobID, MessageID: r.MessageID, Type: r.Type, To: r.ToAddress, Subject: r.Subject, Text: r.TextBody, HTML: r.HtmlBody}
	}
	return out, nil
}

// GrantAdmin makes the user with email an admin; ENOTFOUND when there is none.
func (s *Service) GrantAdmin(ctx context.Context, email string) error {
	n, err := s.queries.UserSetRoleByEmail(ctx, s.pool, db.UserSetRoleByEmailParams{Role: RoleAdmin, Email: email})
	if err != nil {
		return fmt.Errorf("grant admin: %w", err)
	}
	if n == 0 {
		return notFound("User")
	}
	return nil
}
