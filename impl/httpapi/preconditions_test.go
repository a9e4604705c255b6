package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIfNoneMatchGuardsEveryWrite: If-None-Match on PUT, PATCH or DELETE is a precondition too (RFC 9110,
// section 13.1.2): "*" (which a client sends so as never to overwrite what it believes absent) or a list holding
// the current tag, weakly compared, answers 412 with the current ETag and changes nothing; a list without it lets
// the write go ahead. 403 and 404 still come first.
func TestIfNoneMatchGuardsEveryWrite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, grace := b.signUp("Grace", "grace@example.com")
	newPost, newUser, newComment := b.newPost, b.newUser, b.newComment
	writes := []struct {
		name         string
		method, body string
		path         func(t *testing.T) (path, token string)
	}{
		{"PATCH post", http.MethodPatch, `{"title":"Changed"}`, newPost},
		{"DELETE post", http.MethodDelete, "", newPost},
		{"PATCH user", http.MethodPatch, `{"name":"Changed"}`, newUser},
		{"PUT user", http.MethodPut, `{"name":"Changed","email":"%s"}`, newUser},
		{"DELETE user", http.MethodDelete, "", newUser},
		{"DELETE comment", http.MethodDelete, "", newComment},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			path, token := w.path(t)
			body := w.body
			if w.method == http.MethodPut {
				var u struct{ Data struct{ Email string } }
				require.NoError(t, json.Unmarshal(b.doJSON(http.MethodGet, path, "", withToken(token)...).body, &u))
				body = fmt.Sprintf(body, u.Data.Email)
			}
			run := func(token string, headers ...string) response {
				return b.doJSON(w.method, path, body, append(withToken(token), headers...)...)
			}
			current := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
			require.NotEmpty(t, current)
			for _, h := range []string{"*", current, "W/" + current, `"999", ` + current} {
				r := run(token, "If-None-Match", h)
				require.Equal(t, http.StatusPreconditionFailed, r.status, "If-None-Match %s: %s", h, r.body)
				require.Equal(t, current, r.header.Get("ETag"), "the current tag")
				r.envelope(t)
				after := b.doJSON(http.MethodGet, path, "", withToken(token)...)
				require.Equal(t, http.StatusOK, after.status, "nothing was deleted")
				require.Equal(t, current, after.header.Get("ETag"), "nothing changed")
			}
			require.Equal(t, http.StatusPreconditionFailed, run(token, "If-Match", current, "If-None-Match", current).status,
				"both are preconditions: If-Match holding does not lift If-None-Match")
			require.Equal(t, http.StatusForbidden, run(grace, "If-None-Match", "*").status, "403 before 412")
			require.Equal(t, http.StatusBadRequest, run(token, "If-None-Match", "3").status, "not an entity-tag")

			ok := run(token, "If-None-Match", `"999", W/"998"`, "If-Match", current)
			if w.method == http.MethodDelete {
				require.Equal(t, http.StatusNoContent, ok.status, string(ok.body))
				gone := run(token, "If-None-Match", "*")
				require.Contains(t, []int{http.StatusNotFound, http.StatusUnauthorized}, gone.status, "404 before 412: %s", gone.body)
				return
			}
			require.Equal(t, http.StatusOK, ok.status, string(ok.body))
			require.NotEqual(t, current, ok.header.Get("ETag"))
			require.Equal(t, http.StatusOK, run(token, "If-None-Match", current).status, "the tag it replaced no longer matches")
		})
	}
}

// TestPublishTakesIfMatch: publishing is a write like any other: with If-Match it publishes only the version the
// caller read, so that an edit made meanwhile (by another of the author's sessions) is not published unseen.
func TestPublishTakesIfMatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	_, grace := b.signUp("Grace", "grace@example.com")
	draft := b.createPost(token, "Draft", false)
	path := fmt.Sprintf("/api/posts/%s", draft.Id)
	reviewed := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
	edited := b.doJSON(http.MethodPatch, path, `{"content":"Not what was reviewed."}`, withToken(token)...)
	require.Equal(t, http.StatusOK, edited.status, string(edited.body))
	current := edited.header.Get("ETag")

	notFound := b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(grace), "If-Match", `"999"`)...)
	require.Equal(t, http.StatusNotFound, notFound.status, "someone else's draft is not found, whatever the tag")
	require.Empty(t, notFound.header.Get("ETag"), "nor its version")

	stale := b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(token), "If-Match", reviewed)...)
	require.Equal(t, http.StatusPreconditionFailed, stale.status, string(stale.body))
	require.Equal(t, current, stale.header.Get("ETag"))
	stale.envelope(t)
	noneMatch := b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(token), "If-None-Match", "*")...)
	require.Equal(t, http.StatusPreconditionFailed, noneMatch.status, string(noneMatch.body))
	require.Equal(t, http.StatusNotFound, b.doJSON(http.MethodGet, path, "").status, "still a draft")

	published := b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(token), "If-Match", current)...)
	require.Equal(t, http.StatusOK, published.status, string(published.body))
	require.NotEqual(t, current, published.header.Get("ETag"))
	again := b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(token), "If-Match", current)...)
	require.Equal(t, http.StatusPreconditionFailed, again.status, "the tag it replaced is stale: %s", again.body)
	require.Equal(t, http.StatusForbidden, b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(grace), "If-Match", `"999"`)...).status,
		"403 before 412 once it is visible")

	// An edit and a conditional publish at once: the publish goes ahead only on the version it names.
	for round := range 10 {
		p := b.createPost(token, fmt.Sprintf("Race %d", round), false)
		path := fmt.Sprintf("/api/posts/%s", p.Id)
		tag := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
		var wg sync.WaitGroup
		var publish response
		wg.Go(func() {
			publish = b.doJSON(http.MethodPost, path+"/publish", "", append(withToken(token), "If-Match", tag)...)
		})
		wg.Go(func() {
			b.doJSON(http.MethodPatch, path, `{"content":"Edited meanwhile."}`, withToken(token)...)
		})
		wg.Wait()
		var now struct {
			Data struct {
				Published bool
				Content   string
			}
		}
		require.NoError(t, json.Unmarshal(b.doJSON(http.MethodGet, path, "", withToken(token)...).body, &now))
		if publish.status == http.StatusOK {
			var was struct{ Data struct{ Content string } }
			require.NoError(t, json.Unmarshal(publish.body, &was))
			require.Equal(t, "Content of "+p.Title, was.Data.Content, "round %d: published the version it named", round)
		} else {
			require.Equal(t, http.StatusPreconditionFailed, publish.status, "round %d: %s", round, publish.body)
			require.False(t, now.Data.Published, "round %d", round)
		}
	}
}

// TestUserChangeChecksCurrentPasswordBeforeIfMatch: a change of email or password with a stale If-Match is
// answered as it would be without it when it fails its own checks, as the contract says (400 without
// currentPassword, 403 with a wrong one); only a request that passes them learns that its tag is stale.
func TestUserChangeChecksCurrentPasswordBeforeIfMatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	path := fmt.Sprintf("/api/users/%s", ada.Id)
	stale := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
	require.Equal(t, http.StatusOK, b.doJSON(http.MethodPatch, path, `{"name":"Ada King"}`, withToken(token)...).status)
	current := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
	conditional := append(withToken(token), "If-Match", stale)
	for name, c := range map[string]struct {
		method, body string
		status       int
	}{
		"PATCH email, no currentPassword":    {http.MethodPatch, `{"email":"ada.king@example.com"}`, http.StatusBadRequest},
		"PATCH email, wrong currentPassword": {http.MethodPatch, `{"email":"ada.king@example.com","currentPassword":"not the password"}`, http.StatusForbidden},
		"PATCH password, no currentPassword": {http.MethodPatch, `{"password":"a new long password"}`, http.StatusBadRequest},
		"PUT new email, wrong password":      {http.MethodPut, `{"name":"Ada","email":"ada.king@example.com","currentPassword":"not the password"}`, http.StatusForbidden},
		"PATCH email, right currentPassword": {http.MethodPatch, `{"email":"ada.king@example.com","currentPassword":"` + testPassword + `"}`, http.StatusPreconditionFailed},
	} {
		r := b.doJSON(c.method, path, c.body, conditional...)
		require.Equal(t, c.status, r.status, "%s: %s", name, r.body)
		r.envelope(t)
	}
	require.Equal(t, current, b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag"), "nothing changed")
}
