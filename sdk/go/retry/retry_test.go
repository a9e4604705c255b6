package retry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/config"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/httpapi"
	"github.com/junction-dev/junction/impl/lossyproxy"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/servicetest"
	"github.com/junction-dev/junction/impl/webhook"
	"github.com/junction-dev/junction/sdk/go/retry"
)

// server starts Junction's REST API over real HTTP on a fresh database.
func server(t *testing.T) (string, func(table string) int) {
	t.Helper()
	pool := dbtest.New(t)
	svc := servicetest.New(t, pool, servicetest.Options{})
	limits := config.RateLimitConfig{Window: time.Minute, Default: 1_000_000, ListUsers: 1_000_000, SignUp: 1_000_000, Login: 1_000_000, PasswordReset: 1_000_000}
	h, err := httpapi.NewHandler(httpapi.Services{Accounts: svc.Accounts, Users: svc.Users, Posts: svc.Posts, Comments: svc.Comments,
		Billing: svc.Billing, Endpoints: svc.Endpoints, Ops: svc.Ops, Idempotency: svc.Idempotency}, httpapi.Options{
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits:         ratelimit.New(limits, ratelimit.NewMemory(1<<16, time.Now)),
		StripeVerifier: webhook.NewVerifier([]string{"whsec_test"}, 5*time.Minute, time.Now),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, func(table string) int {
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
		return n
	}
}

func client(t *testing.T, url string, tr http.RoundTripper, token string) *api.ClientWithResponses {
	t.Helper()
	c, err := api.NewClientWithResponses(url, api.WithHTTPClient(&http.Client{Transport: tr}),
		api.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		}))
	require.NoError(t, err)
	return c
}

// TestALostAnswerIsRetriedIntoTheFirstOne: the proxy lets each write reach the server and drops its answer;
// the SDK retries with the key it chose, gets the original 201, and exactly one resource exists: for sign-up,
// posts, comments and publish.
func TestALostAnswerIsRetriedIntoTheFirstOne(t *testing.T) {
	t.Parallel()
	url, count := server(t)
	proxy := lossyproxy.New(t, url[len("http://"):])
	tr := retry.New(nil)
	tr.BaseDelay = time.Millisecond
	anon := client(t, proxy.URL(), tr, "")

	proxy.Drop(1)
	signUp, err := anon.CreateUserWithResponse(context.Background(), nil, api.CreateUserJSONRequestBody{
		Name: "Ada", Email: "ada@example.com", Password: new("long enough"),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, signUp.StatusCode(), string(signUp.Body))
	require.Equal(t, "true", signUp.HTTPResponse.Header.Get("Idempotent-Replayed"), "the first answer, replayed")
	require.Equal(t, 1, proxy.Dropped())
	require.Equal(t, 1, count("users"))

	tok, err := client(t, url, nil, "").CreateTokenWithResponse(context.Background(), api.TokenRequest{Email: "ada@example.com", Password: new("long enough")})
	require.NoError(t, err)
	ada := client(t, proxy.URL(), tr, tok.JSON200.AccessToken)

	proxy.Drop(2) // two answers lost in a row: the third try gets it
	post, err := ada.CreatePostWithResponse(context.Background(), nil, api.CreatePostJSONRequestBody{Title: "Once", Content: "Only once."})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, post.StatusCode(), string(post.Body))
	require.Equal(t, 1, count("posts"))

	proxy.Drop(1)
	comment, err := ada.CreateCommentWithResponse(context.Background(), post.JSON201.Data.Id, nil, api.CreateCommentJSONRequestBody{Content: "Once too."})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, comment.StatusCode(), string(comment.Body))
	require.Equal(t, 1, count("comments"))

	proxy.Drop(1)
	published, err := ada.PublishPostWithResponse(context.Background(), post.JSON201.Data.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, published.StatusCode(), string(published.Body))
	require.Equal(t, "true", published.HTTPResponse.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 4, count("idempotency_keys"))
}

// TestWhatIsNotSafeIsNotRetried: a POST the contract gives no key (sign-in) is sent once however its answer is
// lost, and a caller's own key is sent unchanged on every try.
func TestWhatIsNotSafeIsNotRetried(t *testing.T) {
	t.Parallel()
	url, count := server(t)
	proxy := lossyproxy.New(t, url[len("http://"):])
	tr := retry.New(nil)
	tr.BaseDelay = time.Millisecond
	var seen sync.Map
	counting := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if k := req.Header.Get(retry.KeyHeader); k != "" {
			seen.Store(k, true)
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	tr.Base = counting
	anon := client(t, proxy.URL(), tr, "")
	_, err := client(t, url, nil, "").CreateUserWithResponse(context.Background(), nil, api.CreateUserJSONRequestBody{
		Name: "Ada", Email: "ada@example.com", Password: new("long enough"),
	})
	require.NoError(t, err)
	proxy.Drop(1)
	_, err = anon.CreateTokenWithResponse(context.Background(), api.TokenRequest{Email: "ada@example.com", Password: new("long enough")})
	require.Error(t, err, "sign-in takes no key: its lost answer is the caller's to handle")
	require.Equal(t, 1, proxy.Dropped())

	proxy.Drop(1)
	_, err = anon.CreateUserWithResponse(context.Background(), &api.CreateUserParams{IdempotencyKey: new("mine")}, api.CreateUserJSONRequestBody{
		Name: "Grace", Email: "grace@example.com", Password: new("long enough"),
	})
	require.NoError(t, err)
	keys := 0
	seen.Range(func(k, _ any) bool { keys++; require.Equal(t, "mine", k); return true })
	require.Equal(t, 1, keys, "the caller's key, on both tries")
	require.Equal(t, 2, count("users"))

	// A key the SDK makes is a UUIDv7, which the server files under its time.
	seen.Clear()
	_, err = anon.CreateUserWithResponse(context.Background(), nil, api.CreateUserJSONRequestBody{
		Name: "Hopper", Email: "hopper@example.com", Password: new("long enough"),
	})
	require.NoError(t, err)
	seen.Range(func(k, _ any) bool {
		u, err := uuid.Parse(k.(string))
		require.NoError(t, err)
		require.Equal(t, uuid.Version(7), u.Version(), k)
		keys++
		return true
	})
	require.Equal(t, 2, keys)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
