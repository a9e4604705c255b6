package mail

import (
	"context"
	"fmt"
	"log/slog"
)

// Log is the transport without a mail server: it logs each message's envelope and hands the whole message to
// record (which keeps it in a table). The body is not logged: a password-reset email holds a secret.
type Log struct {
	logger *slog.Logger
	record func(context.Context, Message) error
}

// NewLog returns a Log transport.
func NewLog(logger *slog.Logger, record func(context.Context, Message) error) *Log {
	return &Log{logger: logger, record: record}
}

// Send records m and logs that it was sent.
func (l *Log) Send(ctx context.Context, m Message) error {
	if err := l.record(ctx, m); err != nil {
		return fmt.Errorf("mail: record: %w", err)
	}
	l.logger.InfoContext(ctx, "email sent to the log transport",
		"message_id", m.MessageID, "type", m.Type, "to", m.To, "subject", m.Subject, "job_id", m.JobID)
	return nil
}
