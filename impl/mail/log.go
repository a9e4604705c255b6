package mail

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"strings"
)

// Redacted replaces each secret in what the log transport keeps.
const Redacted = "[redacted: the log transport keeps no secrets; set SMTP_URL to receive this email]"

// Log is the transport without a mail server: it logs each message's envelope and hands the message to record
// (which keeps it in a table), with its [Message.Secrets] replaced by [Redacted]. Whatever it keeps can be read by
// anyone with the logs or the database, so a reset token kept there would let them reset the password: this
// transport never delivers a usable one, and a password reset needs SMTP. The body is not logged at all.
type Log struct {
	logger *slog.Logger
	record func(context.Context, Message) error
}

// NewLog returns a Log transport.
func NewLog(logger *slog.Logger, record func(context.Context, Message) error) *Log {
	return &Log{logger: logger, record: record}
}

// Send records m without its secrets and logs that it was sent.
func (l *Log) Send(ctx context.Context, m Message) error {
	redacted := len(m.Secrets) > 0
	m = redact(m)
	if err := l.record(ctx, m); err != nil {
		return fmt.Errorf("mail: record: %w", err)
	}
	l.logger.InfoContext(ctx, "email sent to the log transport",
		"message_id", m.MessageID, "type", m.Type, "to", m.To, "subject", m.Subject, "job_id", m.JobID,
		"redacted", redacted)
	return nil
}

// redact replaces every secret in m's subject and parts, in each form a template may have written it: as is,
// HTML-escaped and URL-escaped.
func redact(m Message) Message {
	if len(m.Secrets) == 0 {
		return m
	}
	var pairs []string
	for _, s := range m.Secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, html.EscapeString(s), url.QueryEscape(s), url.PathEscape(s)} {
			pairs = append(pairs, form, Redacted)
		}
	}
	r := strings.NewReplacer(pairs...)
	m.Subject, m.Text, m.HTML = r.Replace(m.Subject), r.Replace(m.Text), r.Replace(m.HTML)
	m.Secrets = nil
	return m
}
