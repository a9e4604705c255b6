package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/mail"
	"github.com/junction-dev/junction/impl/mailtest"
	"github.com/junction-dev/junction/impl/service"
)

var tokenLine = regexp.MustCompile(`token: (\S+)`)

// decodedBody is a received message's body with its quoted-printable soft line breaks and escapes undone.
func decodedBody(t *testing.T, m mailtest.Received) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Body())))
	require.NoError(t, err)
	return string(b)
}

// TestEmailChangeNoticeReachesTheOldAddress runs the whole path: the update commits its notice job, the worker
// renders it, and the SMTP server receives it for the old address.
func TestEmailChangeNoticeReachesTheOldAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	b.smtp.WaitAccepted(t, 1, 20*time.Second) // the welcome
	adaCtx := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID, Role: service.RoleUser})

	_, err = b.svc.Users.Update(adaCtx, ada.ID, service.UpdateUserInput{Email: new("ada.king@example.com")})
	require.Equal(t, service.EINVALID, service.ErrorCode(err), "no current password, no change")
	_, err = b.svc.Users.Update(adaCtx, ada.ID, service.UpdateUserInput{
		Email: new("ada.king@example.com"), Password: new("a new password"), CurrentPassword: new("long enough"),
	})
	require.NoError(t, err)

	got := b.smtp.WaitAccepted(t, 3, 20*time.Second)
	bySubject := map[string]string{}
	for _, m := range got[1:] {
		require.Equal(t, []string{"ada@example.com"}, m.To, "notices go to the old address")
		bySubject[m.Header.Get("Subject")] = decodedBody(t, m)
	}
	require.Contains(t, bySubject["The email of your Junction account changed"], "from ada@example.com to ada.king@example.com")
	require.Contains(t, bySubject["The password of your Junction account changed"], "every session signed in before the change has")
	time.Sleep(200 * time.Millisecond)
	require.Len(t, b.smtp.All(), 3, "nothing for the refused change")
}

// TestPasswordResetRequestSendsOnlyForAccounts: the request queues a job for any email; the job sends the reset
// email only when the account exists.
func TestPasswordResetRequestSendsOnlyForAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	require.NoError(t, b.svc.Accounts.RequestPasswordReset(ctx, "nobody@example.com"))
	require.NoError(t, b.svc.Accounts.RequestPasswordReset(ctx, "ADA@example.com"))

	got := b.smtp.WaitAccepted(t, 2, 20*time.Second)
	require.Equal(t, []string{"ada@example.com"}, got[1].To)
	require.Equal(t, "Reset your Junction password", got[1].Header.Get("Subject"))
	require.Regexp(t, `token: [A-Za-z0-9_-]{43}`, got[1].Body(), "SMTP delivers the token")
	require.Eventually(t, func() bool {
		var n int
		err := b.pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'password_reset' AND state = 'completed'").Scan(&n)
		return err == nil && n == 2
	}, 20*time.Second, 20*time.Millisecond, "both requests' jobs completed")
	time.Sleep(200 * time.Millisecond)
	require.Len(t, b.smtp.All(), 2, "nothing for the unknown email")
}

// TestLogTransportKeepsNoUsableResetToken: with the log transport, neither sent_emails nor the log holds the
// reset token, in any form the templates write it; what it keeps in its place confirms no reset.
func TestLogTransportKeepsNoUsableResetToken(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{logTransport: true})
	ctx := context.Background()
	_, err := b.svc.Users.Create(ctx, service.CreateUserInput{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	require.NoError(t, err)
	require.NoError(t, b.svc.Accounts.RequestPasswordReset(ctx, "ada@example.com"))

	var emails []service.SentEmail
	require.Eventually(t, func() bool {
		emails, err = b.svc.Emails.SentTo(ctx, "ada@example.com")
		return err == nil && len(emails) == 2
	}, 20*time.Second, 20*time.Millisecond)
	reset := emails[0] // newest first
	require.Equal(t, service.EmailPasswordReset, reset.Type)

	// The real token, from the job that carried it sealed.
	var raw []byte
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT args FROM river_job WHERE kind = 'email' AND args->>'type' = 'password-reset'").Scan(&raw))
	var args service.EmailArgs
	require.NoError(t, json.Unmarshal(raw, &args))
	token, err := b.sealer.Open(args.SealedToken)
	require.NoError(t, err)
	require.Len(t, token, 43)

	for _, part := range []string{reset.Subject, reset.Text, reset.HTML} {
		require.NotContains(t, part, token)
	}
	require.Contains(t, reset.Text, "token: "+mail.Redacted)
	require.Contains(t, reset.HTML, mail.Redacted)
	require.Eventually(t, func() bool { return strings.Count(b.logs.String(), `"msg":"email sent to the log transport"`) == 2 }, 5*time.Second, 10*time.Millisecond)
	require.NotContains(t, b.logs.String(), token)
	require.Contains(t, b.logs.String(), `"redacted":true`)

	// Whatever the kept email shows on its token line is no token: nothing stored hashes to it.
	shown := tokenLine.FindStringSubmatch(reset.Text)[1]
	sum := sha256.Sum256([]byte(shown))
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM password_reset_tokens WHERE token_hash = $1", sum[:]).Scan(&n))
	require.Zero(t, n)
	// The welcome, which holds no secret, is kept whole.
	require.Contains(t, emails[1].Text, "Hello Ada")
}
