package mail_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/mailtest"
)

// TestSMTPSignsIn: the credentials of SMTP_URL sign in with AUTH PLAIN before the message is sent; wrong or
// missing ones make the send fail instead of the message going out unsigned.
func TestSMTPSignsIn(t *testing.T) {
	t.Parallel()
	server := mailtest.Start(t)
	server.RequireAuth("mailer", "s3cret pass")
	withUser := func(userinfo string) string {
		return strings.Replace(server.URL(), "smtp://", "smtp://"+userinfo, 1)
	}
	msg := mail.Message{MessageID: "<t@junction.test>", Type: "welcome", To: "ada@example.com", Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>"}
	tests := []struct {
		name     string
		url      string
		accepted bool
	}{
		{"the right credentials", withUser("mailer:s3cret%20pass@"), true},
		{"a wrong password", withUser("mailer:nope@"), false},
		{"none", server.URL(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sender, err := mail.NewSMTP(tt.url, "Junction <no-reply@junction.test>", nil, nil)
			require.NoError(t, err)
			before := len(server.All())
			err = sender.Send(context.Background(), msg)
			if !tt.accepted {
				require.Error(t, err)
				require.Len(t, server.All(), before, "nothing was sent")
				require.NotContains(t, err.Error(), "s3cret", "the password is not in the error")
				return
			}
			require.NoError(t, err)
			got := server.All()
			require.Len(t, got, before+1)
			require.Equal(t, "mailer", got[len(got)-1].User)
		})
	}
}

// TestSMTPStartTLS: with tls=required the message goes over STARTTLS to a server whose certificate chains to the
// given authorities (SMTP_CA_FILE's, here) and is never sent to one it cannot verify.
func TestSMTPStartTLS(t *testing.T) {
	t.Parallel()
	server := mailtest.StartTLS(t)
	server.RequireAuth("mailer", "pass")
	caFile, err := mail.CertPool(server.CAFile(t))
	require.NoError(t, err)
	url := func(tlsMode string) string {
		return strings.Replace(strings.Replace(server.URL(), "tls=none", "tls="+tlsMode, 1), "smtp://", "smtp://mailer:pass@", 1)
	}
	msg := mail.Message{MessageID: "<tls@junction.test>", Type: "welcome", To: "ada@example.com", Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>"}
	tests := []struct {
		name  string
		url   string
		roots *x509.CertPool
		sent  bool
	}{
		{"required, the server's authority trusted", url("required"), server.RootCAs(), true},
		{"opportunistic, the authority from SMTP_CA_FILE", url("opportunistic"), caFile, true},
		{"required, an authority nobody trusts", url("required"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sender, err := mail.NewSMTP(tt.url, "Junction <no-reply@junction.test>", tt.roots, nil)
			require.NoError(t, err)
			before := len(server.All())
			err = sender.Send(context.Background(), msg)
			if !tt.sent {
				require.Error(t, err)
				require.Len(t, server.All(), before, "nothing was sent")
				return
			}
			require.NoError(t, err)
			got := server.All()
			require.Len(t, got, before+1)
			require.True(t, got[len(got)-1].TLS, "over TLS")
			require.Equal(t, "mailer", got[len(got)-1].User)
		})
	}
}

// TestSMTPImplicitTLS: smtps:// speaks TLS from the first byte, verified against the given authorities.
func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	server := mailtest.StartImplicitTLS(t)
	url := "smtps://" + server.Addr
	msg := mail.Message{MessageID: "<smtps@junction.test>", Type: "welcome", To: "ada@example.com", Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>"}

	untrusting, err := mail.NewSMTP(url, "Junction <no-reply@junction.test>", nil, nil)
	require.NoError(t, err)
	require.Error(t, untrusting.Send(context.Background(), msg), "a certificate nobody trusts")
	require.Empty(t, server.All())

	sender, err := mail.NewSMTP(url, "Junction <no-reply@junction.test>", server.RootCAs(), nil)
	require.NoError(t, err)
	require.NoError(t, sender.Send(context.Background(), msg))
	got := server.All()
	require.Len(t, got, 1)
	require.True(t, got[0].TLS)
}

// TestSMTPSendIsASpan: a send is one client span under the caller's, naming the server and the email's type, and
// neither the recipient, the credentials, nor the message; a failed send is an error span.
func TestSMTPSendIsASpan(t *testing.T) {
	t.Parallel()
	server := mailtest.Start(t)
	server.RequireAuth("mailer", "s3cret")
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	url := strings.Replace(server.URL(), "smtp://", "smtp://mailer:s3cret@", 1)
	sender, err := mail.NewSMTP(url, "Junction <no-reply@junction.test>", nil, tp)
	require.NoError(t, err)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "job")
	msg := mail.Message{MessageID: "<t@junction.test>", Type: "welcome", To: "ada@example.com", Subject: "Hi Ada", Text: "Hello Ada", HTML: "<p>Hello</p>", JobID: 7}
	require.NoError(t, sender.Send(ctx, msg))
	server.FailNext(1)
	require.Error(t, sender.Send(ctx, msg))
	parent.End()

	var sends []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "smtp send" {
			sends = append(sends, s)
		}
		for _, a := range s.Attributes() {
			for _, secret := range []string{"ada@example.com", "s3cret", "Hello Ada"} {
				require.NotContains(t, a.Value.String(), secret, "%s: %s", s.Name(), a.Key)
			}
		}
	}
	require.Len(t, sends, 2)
	ok, failed := sends[0], sends[1]
	require.Equal(t, trace.SpanKindClient, ok.SpanKind())
	require.Equal(t, parent.SpanContext().SpanID(), ok.Parent().SpanID())
	attrs := attribute.NewSet(ok.Attributes()...)
	host, _ := attrs.Value("server.address")
	require.Equal(t, "127.0.0.1", host.AsString())
	typ, _ := attrs.Value("email.type")
	require.Equal(t, "welcome", typ.AsString())
	require.Equal(t, codes.Unset, ok.Status().Code)
	require.Equal(t, codes.Error, failed.Status().Code)
	failedAttrs := attribute.NewSet(failed.Attributes()...)
	attempts, _ := failedAttrs.Value("smtp.attempts")
	require.EqualValues(t, 1, attempts.AsInt64(), "a server's refusal is not retried within the send")
}
