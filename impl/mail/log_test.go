package mail

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLogKeepsNoSecret(t *testing.T) {
	t.Parallel()
	const secret = `tok+en/with&odd<chars>`
	tests := []struct {
		name string
		form string // the secret as a template may write it
		text string
	}{
		{"as is", secret, "token: " + secret},
		{"html-escaped", "tok+en/with&amp;odd&lt;chars&gt;", "<code>tok+en/with&amp;odd&lt;chars&gt;</code>"},
		{"in a query", "tok%2Ben%2Fwith%26odd%3Cchars%3E", "https://x.test/reset?token=tok%2Ben%2Fwith%26odd%3Cchars%3E"},
		{"in a path", "tok+en%2Fwith&odd%3Cchars%3E", "https://x.test/reset/tok+en%2Fwith&odd%3Cchars%3E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs strings.Builder
			var kept Message
			l := NewLog(slog.New(slog.NewJSONHandler(&logs, nil)), func(_ context.Context, m Message) error {
				kept = m
				return nil
			})
			require.NoError(t, l.Send(context.Background(), Message{
				Type: "password-reset", To: "ada@example.com", Subject: "s " + tt.text, Text: tt.text, HTML: tt.text, Secrets: []string{secret},
			}))
			for _, part := range []string{kept.Subject, kept.Text, kept.HTML, logs.String()} {
				require.NotContains(t, part, tt.form, "the secret in this form is gone")
			}
			require.Contains(t, kept.Text, Redacted)
			require.Empty(t, kept.Secrets, "the kept message does not carry the secrets either")
		})
	}
}
