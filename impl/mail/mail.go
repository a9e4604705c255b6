// Package mail renders Junction's emails from templates and sends them: over SMTP, or, where MAIL_TRANSPORT=log
// (the development default without SMTP_URL), to the log and a table with every secret redacted.
package mail

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
)

// Message is one rendered email.
type Message struct {
	// MessageID is the Message-ID header value, <...> included. It derives from the job that sends the message,
	// so a retried send carries the same id and is recognisable downstream.
	MessageID string
	Type      string
	To        string
	Subject   string
	Text      string
	HTML      string
	// JobID is the job that sends the message.
	JobID int64
	// Secrets are values in the message (a password-reset token) that only its recipient may read. A transport
	// that delivers to the recipient sends them; one that keeps or logs messages instead must not (see [Log]).
	Secrets []string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrUnknownType means there is no template for an email type: retrying will not help.
var ErrUnknownType = errors.New("mail: unknown email type")

//go:embed templates
var templateFS embed.FS

// Templates renders emails by type. Each type has a subject, a text part and an HTML part.
type Templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewTemplates parses the embedded templates.
func NewTemplates() (*Templates, error) {
	text, err := texttemplate.ParseFS(templateFS, "templates/*.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: parse text templates: %w", err)
	}
	html, err := htmltemplate.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("mail: parse html templates: %w", err)
	}
	return &Templates{text: text, html: html}, nil
}

// Data is what the templates can show. Each type uses the fields it needs; the others stay empty.
type Data struct {
	// Name and To are the recipient's; BaseURL is where links point.
	Name, To, BaseURL string
	// Token and ExpiresIn are a password reset's.
	Token, ExpiresIn string
	// PostID, PostTitle, ActorName and Excerpt describe a new comment, for a notification.
	PostID, PostTitle, ActorName, Excerpt string
	// PaymentID and Amount describe a successful payment, for a receipt.
	PaymentID, Amount string
	// NewEmail is the address an account moved to, for the notice to its old one.
	NewEmail string
	// EndpointID, EndpointURL and DisabledReason describe a webhook endpoint Junction disabled.
	EndpointID, EndpointURL, DisabledReason string
}

// Render fills in the subject, text and HTML of an email of type typ for data. A template that names a field Data
// does not have fails here, in tests, rather than showing a blank in a sent email.
func (t *Templates) Render(typ string, data Data) (subject, text, html string, err error) {
	if t.text.Lookup(typ+".txt") == nil || t.html.Lookup(typ+".html") == nil {
		return "", "", "", fmt.Errorf("%w: %q", ErrUnknownType, typ)
	}
	var subj, txt, htm bytes.Buffer
	if err := t.text.ExecuteTemplate(&subj, typ+".subject", data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", typ, err)
	}
	if err := t.text.ExecuteTemplate(&txt, typ+".txt", data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s text: %w", typ, err)
	}
	if err := t.html.ExecuteTemplate(&htm, typ+".html", data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s html: %w", typ, err)
	}
	return subj.String(), txt.String(), htm.String(), nil
}
