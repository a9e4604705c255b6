package retry_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/lossyproxy"
	"github.com/junction-dev/junction/sdk/go/retry"
)

// TestConditionalRequestsThroughTheSDK: the generated client reads a resource's ETag, sends it back in
// If-None-Match (304) and If-Match (412 with the current tag, typed), and a conditional PATCH whose answer the
// network loses is retried into its first 200 rather than a 412 against the version it made: a PATCH by its key's
// replay, a PUT as a change already made.
func TestConditionalRequestsThroughTheSDK(t *testing.T) {
	t.Parallel()
	url, _ := server(t)
	proxy := lossyproxy.New(t, url[len("http://"):])
	tr := retry.New(nil)
	tr.BaseDelay = time.Millisecond
	ctx := context.Background()
	anon := client(t, url, nil, "")
	signedUp, err := anon.CreateUserWithResponse(ctx, nil, api.CreateUserJSONRequestBody{Name: "Ada", Email: "ada@example.com", Password: new("long enough")})
	require.NoError(t, err)
	tok, err := anon.CreateTokenWithResponse(ctx, api.TokenRequest{Email: "ada@example.com", Password: new("long enough")})
	require.NoError(t, err)
	ada := client(t, proxy.URL(), tr, tok.JSON200.AccessToken)

	created, err := ada.CreatePostWithResponse(ctx, nil, api.CreatePostJSONRequestBody{Title: "Notes", Content: "First."})
	require.NoError(t, err)
	id := created.JSON201.Data.Id
	read, err := ada.GetPostWithResponse(ctx, id, nil)
	require.NoError(t, err)
	tag := read.HTTPResponse.Header.Get("ETag")
	require.Equal(t, created.HTTPResponse.Header.Get("ETag"), tag)

	unchanged, err := ada.GetPostWithResponse(ctx, id, &api.GetPostParams{IfNoneMatch: &tag})
	require.NoError(t, err)
	require.Equal(t, http.StatusNotModified, unchanged.StatusCode())
	require.Empty(t, unchanged.Body)

	proxy.Drop(1)
	edited, err := ada.PatchPostWithResponse(ctx, id, &api.PatchPostParams{IfMatch: &tag}, api.PatchPostJSONRequestBody{Title: new("Edited")})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, edited.StatusCode(), string(edited.Body))
	require.Equal(t, "true", edited.HTTPResponse.Header.Get("Idempotent-Replayed"), "the lost answer, replayed")
	require.Equal(t, 1, proxy.Dropped())
	next := edited.HTTPResponse.Header.Get("ETag")
	require.NotEqual(t, tag, next)

	stale, err := ada.PatchPostWithResponse(ctx, id, &api.PatchPostParams{IfMatch: &tag}, api.PatchPostJSONRequestBody{Title: new("Lost update")})
	require.NoError(t, err)
	require.Equal(t, http.StatusPreconditionFailed, stale.StatusCode())
	require.NotNil(t, stale.JSON412, "typed as the contract's error")
	require.Equal(t, next, stale.HTTPResponse.Header.Get("ETag"), "the current tag, to read again")

	deleted, err := ada.DeletePostWithResponse(ctx, id, &api.DeletePostParams{IfMatch: &next})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.StatusCode(), string(deleted.Body))

	// A PUT takes no key: retried after its answer was lost, it finds the user as it asks, and RFC 9110 lets a
	// failed If-Match answer 200 for a change already made, rather than 412 against the version it made.
	uid := signedUp.JSON201.Data.Id
	me, err := ada.GetUserWithResponse(ctx, uid, nil)
	require.NoError(t, err)
	userTag := me.HTTPResponse.Header.Get("ETag")
	proxy.Drop(1)
	replaced, err := ada.ReplaceUserWithResponse(ctx, uid, &api.ReplaceUserParams{IfMatch: &userTag},
		api.ReplaceUserJSONRequestBody{Name: "Ada Lovelace", Email: "ada@example.com"})
	require.NoError(t, err)
	require.Equal(t, 2, proxy.Dropped())
	require.Equal(t, http.StatusOK, replaced.StatusCode(), string(replaced.Body))
	require.Equal(t, "Ada Lovelace", replaced.JSON200.Data.Name)
	made := replaced.HTTPResponse.Header.Get("ETag")
	require.NotEqual(t, userTag, made)
	after, err := ada.GetUserWithResponse(ctx, uid, nil)
	require.NoError(t, err)
	require.Equal(t, made, after.HTTPResponse.Header.Get("ETag"), "changed once")
	other, err := ada.ReplaceUserWithResponse(ctx, uid, &api.ReplaceUserParams{IfMatch: &userTag},
		api.ReplaceUserJSONRequestBody{Name: "Someone else", Email: "ada@example.com"})
	require.NoError(t, err)
	require.Equal(t, http.StatusPreconditionFailed, other.StatusCode(), "another change with the stale tag")
}
