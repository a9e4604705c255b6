package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada := b.createUser("Ada", "ada@example.com")

	resp, err := b.client.CreateTokenWithResponse(ctx, api.TokenRequest{Email: "ADA@example.com", Password: new(testPassword)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode(), string(resp.Body))
	require.Equal(t, api.Bearer, resp.JSON200.TokenType)
	require.Equal(t, "no-store", resp.HTTPResponse.Header.Get("Cache-Control"), "no cache keeps a token (RFC 6749, 5.1)")
	require.Equal(t, 3600, resp.JSON200.ExpiresIn)
	claims := jwt.MapClaims{}
	_, _, err = jwt.NewParser().ParseUnverified(resp.JSON200.AccessToken, claims)
	require.NoError(t, err)
	require.Equal(t, ada.Id.String(), claims["sub"])
	for _, c := range []string{"iat", "exp", "iss", "aud"} {
		require.Contains(t, claims, c)
	}

	me, err := b.client.GetUserWithResponse(ctx, ada.Id, nil, bearer(resp.JSON200.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())

	// Wrong password and unknown email fail alike: same status, same message.
	var messages []string
	for _, body := range []api.TokenRequest{
		{Email: "ada@example.com", Password: new("wrong password")},
		{Email: "nobody@example.com", Password: new(testPassword)},
		{Email: "", Password: new("")},
	} {
		resp, err := b.client.CreateTokenWithResponse(ctx, body)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode())
		require.Equal(t, `Bearer realm="junction"`, resp.HTTPResponse.Header.Get("WWW-Authenticate"))
		messages = append(messages, *resp.JSON401.Message)
	}
	require.Equal(t, messages[0], messages[1])
	require.Equal(t, messages[0], messages[2])
}

func TestTokensThatAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	sign := func(method jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
		now := time.Now()
		claims := jwt.MapClaims{"sub": ada.Id.String(), "iss": "junction", "aud": "junction-api",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if mutate != nil {
			mutate(claims)
		}
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		require.NoError(t, err)
		return s
	}
	parts := strings.Split(token, ".")
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + uuid.NewString() + `"}`))
	tests := []struct {
		name   string
		header string
	}{
		{"missing", ""},
		{"not bearer", "Basic YWRhOnB3"},
		{"bearer without token", "Bearer "},
		{"garbage", "Bearer not-a-token"},
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(-time.Second).Unix()
		})},
		{"tampered signature", "Bearer " + parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))},
		{"tampered payload", "Bearer " + parts[0] + "." + forgedPayload + "." + parts[2]},
		{"alg none", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil)},
		{"another algorithm", "Bearer " + sign(jwt.SigningMethodHS384, testSecret, nil)},
		{"another secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("not the server's secret, 32 bytes"), nil)},
		{"wrong audience", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["aud"] = "other-api" })},
		{"wrong issuer", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["iss"] = "elsewhere" })},
		{"unknown user", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["sub"] = uuid.NewString() })},
		{"subject not a uuid", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, func(c jwt.MapClaims) { c["sub"] = "admin" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.header != "" {
				h = []string{"Authorization", tt.header}
			}
			r := b.do(http.MethodGet, "/api/users", "", "", h...)
			require.Equal(t, http.StatusUnauthorized, r.status, string(r.body))
			require.Equal(t, `Bearer realm="junction"`, r.header.Get("WWW-Authenticate"))
			r.envelope(t)

			// On an operation where a token is optional, a bad one is still refused rather than ignored.
			if tt.header != "" {
				r = b.do(http.MethodGet, "/api/posts", "", "", h...)
				require.Equal(t, http.StatusUnauthorized, r.status)
			}
		})
	}
	r := b.do(http.MethodGet, "/api/users", "", "", "Authorization", "bearer "+token)
	require.Equal(t, http.StatusOK, r.status, "the scheme is case-insensitive")
	r = b.doJSON(http.MethodPost, "/api/users", `{"name":"Grace","email":"grace@example.com","password":"long enough"}`, "Authorization", "Bearer junk")
	require.Equal(t, http.StatusCreated, r.status, "signing up is public: the Authorization header is not looked at")
}

// TestOwnership walks every write operation as its owner, as another user and anonymously.
func TestOwnership(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, adaToken := b.signUp("Ada", "ada@example.com")
	_, graceToken := b.signUp("Grace", "grace@example.com")
	_, alanToken := b.signUp("Alan", "alan@example.com")
	post := b.createPost(adaToken, "Ada's post", true)
	draft := b.createPost(adaToken, "Ada's draft", false)
	graceComment := b.createComment(graceToken, post.Id, "Grace's comment")
	adaComment := b.createComment(adaToken, post.Id, "Ada's comment")
	userPath, postPath := "/api/users/"+ada.Id.String(), "/api/posts/"+post.Id.String()

	type call struct{ method, path, body string }
	tests := []struct {
		name   string
		call   call
		owner  string // the token that may
		status int    // the owner's status
		other  string // a signed-in user who may not
		otherS int
	}{
		{"replace user", call{"PUT", userPath, `{"name":"A","email":"ada@example.com"}`}, adaToken, 200, graceToken, 403},
		{"patch user", call{"PATCH", userPath, `{"name":"A"}`}, adaToken, 200, graceToken, 403},
		{"patch post", call{"PATCH", postPath, `{"title":"T"}`}, adaToken, 200, graceToken, 403},
		{"publish post", call{"POST", postPath + "/publish", ""}, adaToken, 200, graceToken, 403},
		{"patch someone's draft", call{"PATCH", "/api/posts/" + draft.Id.String(), `{"title":"T"}`}, adaToken, 200, graceToken, 404},
		{"publish someone's draft", call{"POST", "/api/posts/" + draft.Id.String() + "/publish", ""}, adaToken, 200, graceToken, 404},
		{"create post", call{"POST", "/api/posts", `{"title":"T","content":"C"}`}, graceToken, 201, "", 0},
		{"comment", call{"POST", postPath + "/comments", `{"content":"C"}`}, graceToken, 201, "", 0},
		{"delete comment as its author", call{"DELETE", "/api/comments/" + adaComment.Id.String(), ""}, adaToken, 204, graceToken, 403},
		{"delete comment as the post's author", call{"DELETE", "/api/comments/" + graceComment.Id.String(), ""}, adaToken, 204, alanToken, 403},
		{"delete post", call{"DELETE", postPath, ""}, adaToken, 204, graceToken, 403},
		{"delete user", call{"DELETE", userPath, ""}, adaToken, 204, graceToken, 403},
	}
	for _, tt := range tests {
		// Not parallel: the calls are in order (the deletes come last).
		t.Run(tt.name, func(t *testing.T) {
			contentType := ""
			if tt.call.body != "" {
				contentType = "application/json"
			}
			r := b.do(tt.call.method, tt.call.path, contentType, tt.call.body)
			require.Equal(t, http.StatusUnauthorized, r.status, "anonymous: %s", r.body)
			if tt.other != "" {
				r = b.do(tt.call.method, tt.call.path, contentType, tt.call.body, withToken(tt.other)...)
				require.Equal(t, tt.otherS, r.status, "other user: %s", r.body)
				r.envelope(t)
			}
			r = b.do(tt.call.method, tt.call.path, contentType, tt.call.body, withToken(tt.owner)...)
			require.Equal(t, tt.status, r.status, "owner: %s", r.body)
		})
	}
}
