package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/junction-dev/junction/impl/retry"
)

// SMTP sends messages through an SMTP server.
type SMTP struct {
	from   string
	opts   []gomail.Option
	host   string
	port   int
	tracer trace.Tracer
}

// NewSMTP returns an SMTP sender for rawURL:
//
//	smtp://[user:pass@]host[:port][?tls=opportunistic|required|none]   STARTTLS (default port 587; opportunistic)
//	smtps://[user:pass@]host[:port]                                      implicit TLS (default port 465)
//
// from is the From address of every message. roots are the certificate authorities the server's certificate must
// chain to; nil means the system's. Each send is a span of tp (nil: none).
func NewSMTP(rawURL, from string, roots *x509.CertPool, tp trace.TracerProvider) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil, errors.New("mail: SMTP_URL must look like smtp://user:pass@host:587") // the URL may hold a password
	}
	opts := []gomail.Option{gomail.WithTimeout(10 * time.Second)}
	port := 587
	switch u.Scheme {
	case "smtp":
		policy := gomail.TLSOpportunistic
		switch u.Query().Get("tls") {
		case "", "opportunistic":
		case "required":
			policy = gomail.TLSMandatory
		case "none":
			policy = gomail.NoTLS
		default:
			return nil, errors.New("mail: SMTP_URL tls must be opportunistic, required or none")
		}
		opts = append(opts, gomail.WithTLSPolicy(policy))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, errors.New("mail: SMTP_URL scheme must be smtp or smtps")
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, errors.New("mail: SMTP_URL port is not a number")
		}
	}
	opts = append(opts, gomail.WithPort(port),
		gomail.WithTLSConfig(&tls.Config{ServerName: u.Hostname(), RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &SMTP{from: from, opts: opts, host: u.Hostname(), port: port, tracer: tp.Tracer(tracerName)}, nil
}

// tracerName is the instrumentation scope of the send spans.
const tracerName = "github.com/junction-dev/junction/impl/mail"

// Send delivers m, multipart text and HTML, with m.MessageID as its Message-ID. It is one span, whatever the
// attempts within it; the span says which email and server, never the recipient or the message.
func (s *SMTP) Send(ctx context.Context, m Message) (err error) {
	ctx, span := s.tracer.Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.ServerAddress(s.host), semconv.ServerPort(s.port), attribute.String("email.type", m.Type),
		attribute.Int64("email.job_id", m.JobID)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "send failed")
		}
		span.End()
	}()
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(trimAngles(m.MessageID))
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	// Within one job attempt, retry only what failed on the way (a refused or reset connection, a timeout);
	// what the server answered, such as a 4xx, is the job's retry policy's business.
	attempts := 0
	err = retry.Do(ctx, func(ctx context.Context) error {
		attempts++
		return client.DialAndSendWithContext(ctx, msg)
	}, retry.Policy{MaxAttempts: 3, Initial: 200 * time.Millisecond, Max: 2 * time.Second})
	span.SetAttributes(attribute.Int("smtp.attempts", attempts))
	if err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	return nil
}

// trimAngles strips the <> that go-mail adds itself.
func trimAngles(id string) string {
	if len(id) >= 2 && id[0] == '<' && id[len(id)-1] == '>' {
		return id[1 : len(id)-1]
	}
	return id
}

// CertPool returns the system's certificate authorities with those of the PEM file at path added, for an SMTP
// server whose certificate a private authority signed (SMTP_CA_FILE).
func CertPool(path string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP_CA_FILE: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("mail: SMTP_CA_FILE holds no PEM certificate")
	}
	return pool, nil
}
