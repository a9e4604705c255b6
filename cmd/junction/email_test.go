package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/mailtest"
)

var tokenLine = regexp.MustCompile(`token: (\S+)`)

// TestPasswordResetEndToEnd runs the whole flow through the real program and a real SMTP server.
func TestPasswordResetEndToEnd(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	dbURL := dbtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "SMTP_URL": smtp.URL()})

	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"old password"}`)
	require.Equal(t, http.StatusCreated, status)
	welcome := smtp.WaitAccepted(t, 1, 20*time.Second)
	require.Equal(t, "Welcome to Junction, Ada", welcome[0].Header.Get("Subject"))

	for _, email := range []string{"nobody@example.com", "ada@example.com"} {
		status, body := s.post(t, "/api/auth/password-reset", `{"email":"`+email+`"}`)
		require.Equal(t, http.StatusAccepted, status, "the same answer whether or not the account exists")
		require.Equal(t, map[string]any{"status": "accepted"}, body)
	}
	got := smtp.WaitAccepted(t, 2, 20*time.Second)
	reset := got[1]
	require.Equal(t, []string{"ada@example.com"}, reset.To)
	require.Equal(t, "Reset your Junction password", reset.Header.Get("Subject"))
	m := tokenLine.FindStringSubmatch(reset.Body())
	require.NotNil(t, m, reset.Body())
	token := m[1]
	require.NotContains(t, s.logs.String(), token, "the token never reaches the log")

	login := func(password string) (int, string) {
		status, body := s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"`+password+`"}`)
		access, _ := body["accessToken"].(string)
		return status, access
	}
	confirm := func(token string) int {
		status, _ := s.post(t, "/api/auth/password-reset/confirm", `{"token":"`+token+`","newPassword":"new password"}`)
		return status
	}
	writePost := func(access string) int {
		status, _ := s.post(t, "/api/posts", `{"title":"T","content":"C"}`, "Authorization", "Bearer "+access)
		return status
	}
	status, session := login("old password")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, http.StatusCreated, writePost(session))
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the reset comes in a later one
	require.Equal(t, http.StatusNoContent, confirm(token))
	require.Equal(t, http.StatusUnauthorized, writePost(session), "the reset ended the session before it")
	status, session = login("new password")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, http.StatusCreated, writePost(session))
	status, _ = login("old password")
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, http.StatusBadRequest, confirm(token), "a token works once")
	require.Equal(t, http.StatusBadRequest, confirm("made-up-token"))

	// An expired token is refused.
	status, _ = s.post(t, "/api/auth/password-reset", `{"email":"ada@example.com"}`)
	require.Equal(t, http.StatusAccepted, status)
	got = smtp.WaitAccepted(t, 3, 20*time.Second)
	expired := tokenLine.FindStringSubmatch(got[2].Body())[1]
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), "UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL")
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, confirm(expired))
	status, _ = login("new password")
	require.Equal(t, http.StatusOK, status)
}

// TestLogTransportKeepsEmails covers MAIL_TRANSPORT=log: the email is logged (without its body) and kept in the
// sent_emails table, except a reset token, which neither the table nor the log holds in a usable form.
func TestLogTransportKeepsEmails(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "MAIL_TRANSPORT": "log"})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = s.post(t, "/api/auth/password-reset", `{"email":"ada@example.com"}`)
	require.Equal(t, http.StatusAccepted, status)

	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	kept := func(typ string) (subject, text, messageID string) {
		require.Eventually(t, func() bool {
			err := conn.QueryRow(context.Background(), "SELECT subject, text_body, message_id FROM sent_emails WHERE to_address = 'ada@example.com' AND type = $1", typ).
				Scan(&subject, &text, &messageID)
			return err == nil
		}, 20*time.Second, 20*time.Millisecond)
		return subject, text, messageID
	}
	subject, text, messageID := kept("welcome")
	require.Equal(t, "Welcome to Junction, Ada", subject)
	require.Contains(t, text, "Hello Ada")
	require.Regexp(t, `^<email-job-\d+@junction.local>$`, messageID)
	require.Eventually(t, func() bool { return strings.Contains(s.logs.String(), `"msg":"email sent to the log transport"`) }, 5*time.Second, 10*time.Millisecond)
	require.NotContains(t, s.logs.String(), "Hello Ada", "bodies are not logged")

	// The reset email is kept without its token: what its token line shows resets nothing.
	_, text, _ = kept("password-reset")
	m := tokenLine.FindStringSubmatch(text)
	require.NotNil(t, m, text)
	require.Contains(t, text, "[redacted")
	status, _ = s.post(t, "/api/auth/password-reset/confirm", `{"token":"`+m[1]+`","newPassword":"new password"}`)
	require.Equal(t, http.StatusBadRequest, status)
	var stored int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM password_reset_tokens WHERE used_at IS NULL").Scan(&stored))
	require.Equal(t, 1, stored, "a token was issued, and is still unused")
	require.Contains(t, s.logs.String(), "password resets cannot be completed", "the start-up log says so")
}

// TestProductionRefusesToStartWithoutMail: without SMTP_URL, serve and worker refuse to start in production unless
// MAIL_TRANSPORT=log says the log transport is meant; migrate, which sends no email, runs.
func TestProductionRefusesToStartWithoutMail(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET": "an end-to-end test secret, 32 bytes+"}
	for _, cmd := range []string{"serve", "worker"} {
		err := run(context.Background(), []string{cmd}, env(vars), &logtest.Buffer{})
		require.ErrorContains(t, err, "SMTP_URL is required unless APP_ENV=development or MAIL_TRANSPORT=log", cmd)
	}
	require.NoError(t, run(context.Background(), []string{"migrate"}, env(vars), &logtest.Buffer{}))
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "MAIL_TRANSPORT": "log"})
	status, _ := s.post(t, "/api/auth/password-reset", `{"email":"nobody@example.com"}`)
	require.Equal(t, http.StatusAccepted, status, "with MAIL_TRANSPORT=log it serves")
}

// TestEmailChangeEndToEnd: through the real program and a real SMTP server, an email change with the current
// password is told to the old address; one without it changes nothing and sends nothing.
func TestEmailChangeEndToEnd(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t), "SMTP_URL": smtp.URL()})
	status, body := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	id := body["data"].(map[string]any)["id"].(string)
	_, tok := s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`)
	access := tok["accessToken"].(string)
	smtp.WaitAccepted(t, 1, 20*time.Second) // the welcome

	patch := func(body string) int {
		req, err := http.NewRequest(http.MethodPatch, s.base+"/api/users/"+id, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusBadRequest, patch(`{"email":"mallory@example.com"}`))
	require.Equal(t, http.StatusForbidden, patch(`{"email":"mallory@example.com","currentPassword":"a guess"}`))
	require.Equal(t, http.StatusOK, patch(`{"email":"ada.king@example.com","currentPassword":"long enough"}`))
	got := smtp.WaitAccepted(t, 2, 20*time.Second)
	require.Equal(t, []string{"ada@example.com"}, got[1].To)
	require.Equal(t, "The email of your Junction account changed", got[1].Header.Get("Subject"))
	time.Sleep(200 * time.Millisecond)
	require.Len(t, smtp.All(), 2, "the refused changes sent nothing")
}

// TestAdminJobsUI checks that River UI is mounted for admins only.
func TestAdminJobsUI(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	_, tok := s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"long enough"}`)
	userToken := tok["accessToken"].(string)

	get := func(path string, edit func(*http.Request)) *http.Response {
		req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
		require.NoError(t, err)
		if edit != nil {
			edit(req)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := get("/admin/jobs", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic", "a browser asks for credentials")
	resp = get("/admin/jobs", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+userToken) })
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a user who is not an admin")
	// The Basic sign-in is no password oracle: a non-admin's right password fails as a wrong one does.
	wrong := adminSignIn(t, s.base, "ada@example.com", "wrong")
	right := adminSignIn(t, s.base, "ada@example.com", "long enough")
	require.Equal(t, http.StatusUnauthorized, wrong.status)
	require.Equal(t, wrong, right)

	require.NoError(t, run(context.Background(), []string{"grant-admin", "ADA@example.com"},
		env(map[string]string{"DATABASE_URL": dbURL, "APP_ENV": "development"}), &strings.Builder{}))
	err := run(context.Background(), []string{"grant-admin", "nobody@example.com"},
		env(map[string]string{"DATABASE_URL": dbURL, "APP_ENV": "development"}), &strings.Builder{})
	require.ErrorContains(t, err, "not found")

	resp = get("/admin/jobs", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+userToken) })
	require.Equal(t, http.StatusOK, resp.StatusCode, "the same token, now an admin's")
	resp = get("/admin/jobs", func(r *http.Request) { r.SetBasicAuth("ada@example.com", "wrong") })
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = get("/admin/jobs", func(r *http.Request) { r.SetBasicAuth("ada@example.com", "long enough") })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cookies := resp.Cookies()
	require.NotEmpty(t, cookies)
	require.True(t, cookies[0].HttpOnly)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "no cache keeps the answer that sets the session")
	resp = get("/admin/jobs/api/jobs?state=completed", func(r *http.Request) { r.AddCookie(cookies[0]) })
	require.Equal(t, http.StatusOK, resp.StatusCode, "the UI's API, with the session cookie")
	require.Contains(t, resp.Header.Get("Content-Type"), "json")
}

// TestWorkerCommand runs `junction worker` beside an API that does not work jobs.
func TestWorkerCommand(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	dbURL := dbtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "SMTP_URL": smtp.URL(), "WORKERS_ENABLED": "false"})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, smtp.All(), "the API process does not work jobs")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"worker"}, env(map[string]string{
			"DATABASE_URL": dbURL, "SMTP_URL": smtp.URL(), "JWT_SECRET": "an end-to-end test secret, 32 bytes+",
		}), &logtest.Buffer{})
	}()
	smtp.WaitAccepted(t, 1, 20*time.Second)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
}

// adminAnswer is what a Basic sign-in to the admin UI answers, without what differs per request.
type adminAnswer struct {
	status        int
	challenge     string
	cookies, body string
}

func adminSignIn(t *testing.T, base, email, password string) adminAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/admin/jobs", nil)
	require.NoError(t, err)
	req.SetBasicAuth(email, password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	delete(body, "timestamp")
	delete(body, "requestId")
	return adminAnswer{
		status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"),
		cookies: strings.Join(resp.Header.Values("Set-Cookie"), "; "), body: fmt.Sprint(body),
	}
}

// TestAdminSignInIsASignIn: the admin UI's Basic sign-in spends the same login budget as REST and GraphQL.
func TestAdminSignInIsASignIn(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL, "RATE_LIMIT_LOGIN": "2"})
	status, _ := s.post(t, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"long enough"}`)
	require.Equal(t, http.StatusCreated, status)
	require.NoError(t, run(context.Background(), []string{"grant-admin", "ada@example.com"},
		env(map[string]string{"DATABASE_URL": dbURL, "APP_ENV": "development"}), &strings.Builder{}))
	for range 2 {
		status, _ = s.post(t, "/api/auth/token", `{"email":"ada@example.com","password":"a wrong guess"}`)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	a := adminSignIn(t, s.base, "ada@example.com", "long enough")
	require.Equal(t, http.StatusTooManyRequests, a.status, "the right admin password, after the budget is spent")
	require.Empty(t, a.cookies, "no session")
}
