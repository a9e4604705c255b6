package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"
)

// TestEveryRepresentationCarriesItsETag: users, posts and comments answer with a strong ETag wherever they are
// the answer (created, read, changed), the same one for the same version, and a new one after every change.
func TestEveryRepresentationCarriesItsETag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	signUp := b.doJSON(http.MethodPost, "/api/users", `{"name":"Ada","email":"ada@example.com","password":"`+testPassword+`"}`)
	require.Equal(t, http.StatusCreated, signUp.status, string(signUp.body))
	userTag := signUp.header.Get("ETag")
	require.Regexp(t, `^"\d+"$`, userTag, "a strong tag")
	user := signUp.header.Get("Location")
	ada := b.login("ada@example.com", testPassword)

	require.Equal(t, userTag, b.doJSON(http.MethodGet, user, "", withToken(ada)...).header.Get("ETag"))
	renamed := b.doJSON(http.MethodPatch, user, `{"name":"Ada King"}`, withToken(ada)...)
	require.Equal(t, http.StatusOK, renamed.status, string(renamed.body))
	require.NotEqual(t, userTag, renamed.header.Get("ETag"))
	require.Equal(t, renamed.header.Get("ETag"), b.doJSON(http.MethodGet, user, "", withToken(ada)...).header.Get("ETag"))
	replaced := b.doJSON(http.MethodPut, user, `{"name":"Ada","email":"ada@example.com"}`, withToken(ada)...)
	require.Equal(t, http.StatusOK, replaced.status, string(replaced.body))
	require.NotEqual(t, renamed.header.Get("ETag"), replaced.header.Get("ETag"))

	created := b.doJSON(http.MethodPost, "/api/posts", `{"title":"Draft","content":"Soon."}`, withToken(ada)...)
	require.Equal(t, http.StatusCreated, created.status, string(created.body))
	post := created.header.Get("Location")
	tags := []string{created.header.Get("ETag")}
	require.Equal(t, tags[0], b.doJSON(http.MethodGet, post, "", withToken(ada)...).header.Get("ETag"))
	edited := b.doJSON(http.MethodPatch, post, `{"title":"Notes"}`, withToken(ada)...)
	published := b.doJSON(http.MethodPost, post+"/publish", "", withToken(ada)...)
	again := b.doJSON(http.MethodPost, post+"/publish", "", withToken(ada)...)
	tags = append(tags, edited.header.Get("ETag"), published.header.Get("ETag"))
	require.Len(t, uniq(tags), 3, "every change has its own tag: %v", tags)
	require.Equal(t, published.header.Get("ETag"), again.header.Get("ETag"), "publishing twice changes nothing")
	require.Equal(t, published.header.Get("ETag"), b.doJSON(http.MethodGet, post, "").header.Get("ETag"), "anonymous readers get the same tag")

	comment := b.doJSON(http.MethodPost, post+"/comments", `{"content":"A fine idea."}`, withToken(ada)...)
	require.Equal(t, http.StatusCreated, comment.status, string(comment.body))
	var c struct {
		Links struct{ Self string } `json:"links"`
	}
	require.NoError(t, json.Unmarshal(comment.body, &c))
	read := b.doJSON(http.MethodGet, c.Links.Self, "")
	require.Equal(t, http.StatusOK, read.status, string(read.body))
	require.Equal(t, comment.header.Get("ETag"), read.header.Get("ETag"))
}

// TestIncludedPostsChangeTheUsersTag: a user read with include=posts has a tag of its own, which moves when one
// of those posts is edited, deleted or added, and which no write's If-Match accepts.
func TestIncludedPostsChangeTheUsersTag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	user := fmt.Sprintf("/api/users/%s", ada.Id)
	withPosts := user + "?include=posts"
	tag := func() string { return b.doJSON(http.MethodGet, withPosts, "", withToken(token)...).header.Get("ETag") }
	p := b.createPost(token, "First", true)
	seen := []string{b.doJSON(http.MethodGet, user, "", withToken(token)...).header.Get("ETag"), tag()}
	require.Equal(t, http.StatusOK, b.doJSON(http.MethodPatch, fmt.Sprintf("/api/posts/%s", p.Id), `{"title":"Edited"}`, withToken(token)...).status)
	seen = append(seen, tag())
	second := b.createPost(token, "Second", false)
	seen = append(seen, tag())
	require.Equal(t, http.StatusNoContent, b.doJSON(http.MethodDelete, fmt.Sprintf("/api/posts/%s", second.Id), "", withToken(token)...).status)
	seen = append(seen, tag())
	require.Len(t, uniq(seen[1:4]), 3, "each change of the posts moves the tag: %v", seen)
	require.Equal(t, seen[2], seen[4], "the same posts at the same versions: the same tag")
	require.NotEqual(t, seen[0], seen[1])

	notModified := b.doJSON(http.MethodGet, withPosts, "", append(withToken(token), "If-None-Match", seen[4])...)
	require.Equal(t, http.StatusNotModified, notModified.status)
	stale := b.doJSON(http.MethodPatch, user, `{"name":"Ada King"}`, append(withToken(token), "If-Match", seen[4])...)
	require.Equal(t, http.StatusPreconditionFailed, stale.status, "a write takes the user's own tag")
	require.Equal(t, seen[0], stale.header.Get("ETag"))
}

// TestIfNoneMatchAnswersNotModified: a read whose If-None-Match lists the current tag (weakly compared), or is
// *, answers 304 with the tag and no body; anything else answers the representation.
func TestIfNoneMatchAnswersNotModified(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	p := b.createPost(token, "Notes", true)
	c := b.createComment(token, p.Id, "A fine idea.")
	for name, path := range map[string]string{
		"user":    fmt.Sprintf("/api/users/%s", ada.Id),
		"post":    fmt.Sprintf("/api/posts/%s", p.Id),
		"comment": fmt.Sprintf("/api/comments/%s", c.Id),
	} {
		t.Run(name, func(t *testing.T) {
			first := b.doJSON(http.MethodGet, path, "", withToken(token)...)
			require.Equal(t, http.StatusOK, first.status)
			current := first.header.Get("ETag")
			for _, h := range []string{current, "W/" + current, `"nope", ` + current, "*", ` "x",, ` + current + ` `} {
				r := b.doJSON(http.MethodGet, path, "", append(withToken(token), "If-None-Match", h)...)
				require.Equal(t, http.StatusNotModified, r.status, h)
				require.Empty(t, r.body, h)
				require.Equal(t, current, r.header.Get("ETag"), h)
				require.NotEmpty(t, r.header.Get("X-Request-Id"))
			}
			head := b.doJSON(http.MethodHead, path, "", append(withToken(token), "If-None-Match", current)...)
			require.Equal(t, http.StatusNotModified, head.status, "HEAD as GET")
			for _, h := range []string{`"nope"`, `"0"`, `W/"nope"`} {
				r := b.doJSON(http.MethodGet, path, "", append(withToken(token), "If-None-Match", h)...)
				require.Equal(t, http.StatusOK, r.status, h)
				require.Equal(t, string(first.body), string(r.body), h)
			}
			bad := b.doJSON(http.MethodGet, path, "", append(withToken(token), "If-None-Match", `"unterminated`)...)
			require.Equal(t, http.StatusBadRequest, bad.status, string(bad.body))
			bad.envelope(t)
		})
	}
	// Still the caller's visibility first: someone else's draft is not found, whatever the tag.
	draft := b.createPost(token, "Draft", false)
	_, grace := b.signUp("Grace", "grace@example.com")
	r := b.doJSON(http.MethodGet, fmt.Sprintf("/api/posts/%s", draft.Id), "", append(withToken(grace), "If-None-Match", "*")...)
	require.Equal(t, http.StatusNotFound, r.status)
}

// TestIfMatchGuardsEveryWrite: PUT, PATCH and DELETE of users, posts and comments go ahead only while If-Match
// holds (strong comparison; * while the resource exists), and otherwise answer 412 with the current ETag and
// change nothing. 400, 403 and 404 come before it.
func TestIfMatchGuardsEveryWrite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, grace := b.signUp("Grace", "grace@example.com")
	type write struct {
		name         string
		method, body string
		path         func(t *testing.T) (path, token string)
	}
	newPost, newUser, newComment := b.newPost, b.newUser, b.newComment
	writes := []write{
		{"PATCH post", http.MethodPatch, `{"title":"Changed"}`, newPost},
		{"DELETE post", http.MethodDelete, "", newPost},
		{"PATCH user", http.MethodPatch, `{"name":"Changed"}`, newUser},
		{"PUT user", http.MethodPut, `{"name":"Changed","email":"%s"}`, newUser},
		{"DELETE user", http.MethodDelete, "", newUser},
		{"DELETE comment", http.MethodDelete, "", newComment},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			run := func(path, token, ifMatch string, more ...string) response {
				body := w.body
				if w.method == http.MethodPut {
					var u struct{ Data struct{ Email string } }
					require.NoError(t, json.Unmarshal(b.doJSON(http.MethodGet, path, "", withToken(token)...).body, &u))
					body = fmt.Sprintf(body, u.Data.Email)
				}
				return b.doJSON(w.method, path, body, append(append(withToken(token), "If-Match", ifMatch), more...)...)
			}
			path, token := w.path(t)
			current := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
			require.NotEmpty(t, current)
			for _, stale := range []string{`"999"`, "W/" + current, `"x", W/` + current} {
				r := run(path, token, stale)
				require.Equal(t, http.StatusPreconditionFailed, r.status, "%s: %s", stale, r.body)
				require.Equal(t, current, r.header.Get("ETag"), "the current tag, to read again")
				r.envelope(t)
				after := b.doJSON(http.MethodGet, path, "", withToken(token)...)
				require.Equal(t, http.StatusOK, after.status, "nothing was deleted")
				require.Equal(t, current, after.header.Get("ETag"), "nothing changed")
			}
			problem := run(path, token, `"999"`, "Accept", "application/problem+json")
			require.Equal(t, http.StatusPreconditionFailed, problem.status)
			require.Contains(t, string(problem.body), `"type":"https://junction.dev/problems/precondition-failed"`)

			bad := run(path, token, "3")
			require.Equal(t, http.StatusBadRequest, bad.status, "not an entity-tag: %s", bad.body)
			if w.method != http.MethodDelete || w.name != "DELETE user" {
				forbidden := run(path, grace, `"999"`)
				require.Equal(t, http.StatusForbidden, forbidden.status, "403 before 412: %s", forbidden.body)
			}

			ok := run(path, token, `"999", `+current)
			if w.method == http.MethodDelete {
				require.Equal(t, http.StatusNoContent, ok.status, string(ok.body))
				gone := run(path, token, current)
				require.Contains(t, []int{http.StatusNotFound, http.StatusUnauthorized}, gone.status, "404 before 412: %s", gone.body)
				return
			}
			require.Equal(t, http.StatusOK, ok.status, string(ok.body))
			next := ok.header.Get("ETag")
			require.NotEqual(t, current, next)
			again := run(path, token, current)
			if w.method == http.MethodPut {
				// Its own retry, its answer lost: the change is made already (RFC 9110, section 13.1.1).
				require.Equal(t, http.StatusOK, again.status, "a PUT whose change is in place: %s", again.body)
				require.Equal(t, next, again.header.Get("ETag"), "changed nothing")
			} else {
				require.Equal(t, http.StatusPreconditionFailed, again.status, "the tag it replaced is stale")
			}
			require.Equal(t, http.StatusOK, run(path, token, "*").status, "* while it exists")
		})
	}
}

// TestAReplacementAlreadyMadeAnswers200: a PUT whose If-Match fails while the user already holds exactly what it
// asks (its own retry, its first answer lost) answers 200 with the user, as RFC 9110 (section 13.1.1) allows, and
// changes nothing; one that asks for anything else, or that If-None-Match refuses, is a 412.
func TestAReplacementAlreadyMadeAnswers200(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	path := "/api/users/" + ada.Id.String()
	first := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
	put := func(body string, more ...string) response {
		return b.doJSON(http.MethodPut, path, body, append(withToken(token), more...)...)
	}
	made := put(`{"name":"Ada L.","email":"ada@example.com"}`, "If-Match", first)
	require.Equal(t, http.StatusOK, made.status, string(made.body))
	tag := made.header.Get("ETag")

	cases := []struct {
		name    string
		body    string
		headers []string
		status  int
	}{
		{"the same replacement, the tag it replaced", `{"name":"Ada L.","email":"ada@example.com"}`, []string{"If-Match", first}, http.StatusOK},
		{"another name", `{"name":"Ada","email":"ada@example.com"}`, []string{"If-Match", first}, http.StatusPreconditionFailed},
		{"the email in other case", `{"name":"Ada L.","email":"ADA@example.com"}`, []string{"If-Match", first}, http.StatusPreconditionFailed},
		{"If-None-Match of the current tag", `{"name":"Ada L.","email":"ada@example.com"}`, []string{"If-None-Match", tag}, http.StatusPreconditionFailed},
		{"If-None-Match: *", `{"name":"Ada L.","email":"ada@example.com"}`, []string{"If-None-Match", "*"}, http.StatusPreconditionFailed},
		{"If-Match failing and If-None-Match", `{"name":"Ada L.","email":"ada@example.com"}`, []string{"If-Match", first, "If-None-Match", `"999"`}, http.StatusPreconditionFailed},
	}
	for _, c := range cases {
		r := put(c.body, c.headers...)
		require.Equal(t, c.status, r.status, "%s: %s", c.name, r.body)
		require.Equal(t, tag, r.header.Get("ETag"), "%s: the current tag", c.name)
	}
	require.Equal(t, tag, b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag"), "nothing changed")
}

// TestTwoWritersWithOneTagOneWins: two PATCHes of one post (or user) at once with the same If-Match: one 200,
// one 412, every time, as the comparison is in the UPDATE itself.
func TestTwoWritersWithOneTagOneWins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, token := b.signUp("Ada", "ada@example.com")
	p := b.createPost(token, "Notes", true)
	targets := map[string]string{
		"post": fmt.Sprintf("/api/posts/%s", p.Id),
		"user": fmt.Sprintf("/api/users/%s", u.Id),
	}
	for name, path := range targets {
		t.Run(name, func(t *testing.T) {
			for round := range 20 {
				tag := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
				field := "title"
				if name == "user" {
					field = "name"
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				statuses := make([]int, 2)
				for i := range 2 {
					wg.Go(func() {
						<-start
						body := fmt.Sprintf(`{%q:"Writer %d, round %d"}`, field, i, round)
						statuses[i] = b.doJSON(http.MethodPatch, path, body, append(withToken(token), "If-Match", tag)...).status
					})
				}
				close(start)
				wg.Wait()
				require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, statuses, "round %d", round)
			}
		})
	}
}

// TestConditionalHeadersOnSeveralLines: If-Match sent as two lines is one list (RFC 9110, section 5.3), not a 400.
func TestConditionalHeadersOnSeveralLines(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	p := b.createPost(token, "Notes", true)
	path := fmt.Sprintf("/api/posts/%s", p.Id)
	current := b.doJSON(http.MethodGet, path, "").header.Get("ETag")
	send := func(method, body, header string, values ...string) int {
		req, err := http.NewRequestWithContext(context.Background(), method, b.url+path, nil)
		require.NoError(t, err)
		if body != "" {
			req, err = http.NewRequestWithContext(context.Background(), method, b.url+path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		for _, v := range values {
			req.Header.Add(header, v)
		}
		resp, err := b.http.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusNotModified, send(http.MethodGet, "", "If-None-Match", `"1000"`, current))
	require.Equal(t, http.StatusOK, send(http.MethodPatch, `{"title":"Two lines"}`, "If-Match", `"1000"`, current))
}

// TestAKeyedConditionalWriteReplaysItsAnswer: a PATCH with an Idempotency-Key and If-Match, retried, gets its
// first answer (with the tag it made), not a 412 for the version it moved past.
func TestAKeyedConditionalWriteReplaysItsAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	p := b.createPost(token, "Notes", true)
	path := fmt.Sprintf("/api/posts/%s", p.Id)
	current := b.doJSON(http.MethodGet, path, "").header.Get("ETag")
	headers := append(withToken(token), "If-Match", current, "Idempotency-Key", "edit-once")
	first := b.doJSON(http.MethodPatch, path, `{"title":"Once"}`, headers...)
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	again := b.doJSON(http.MethodPatch, path, `{"title":"Once"}`, headers...)
	require.Equal(t, http.StatusOK, again.status, string(again.body))
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, first.header.Get("ETag"), again.header.Get("ETag"))
	require.Equal(t, first.header.Get("ETag"), b.doJSON(http.MethodGet, path, "").header.Get("ETag"), "written once")
}

// newPost, newUser and newComment make a resource of its own for one conditional case, by an author of its own,
// and return its path and that author's token.
func (b *testBundle) newPost(*testing.T) (string, string) {
	_, token := b.signUp("Author", fmt.Sprintf("author-%s@example.com", uuid.NewString()))
	return fmt.Sprintf("/api/posts/%s", b.createPost(token, "Notes", true).Id), token
}

func (b *testBundle) newUser(*testing.T) (string, string) {
	u, token := b.signUp("User", fmt.Sprintf("user-%s@example.com", uuid.NewString()))
	return fmt.Sprintf("/api/users/%s", u.Id), token
}

func (b *testBundle) newComment(*testing.T) (string, string) {
	_, token := b.signUp("Commenter", fmt.Sprintf("commenter-%s@example.com", uuid.NewString()))
	p := b.createPost(token, "Notes", true)
	return fmt.Sprintf("/api/comments/%s", b.createComment(token, p.Id, "Hello").Id), token
}

func uniq(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// TestBrowsersMaySendAndReadTheContractsHeaders: with CORS on, a page may send the contract's header parameters
// (Idempotency-Key, If-Match, If-None-Match) and read its response headers (ETag, Idempotent-Replayed), as the
// SDKs do from a browser.
func TestBrowsersMaySendAndReadTheContractsHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{cors: []string{"https://app.example"}})
	req, err := http.NewRequest(http.MethodOptions, b.url+"/api/posts/00000000-0000-0000-0000-000000000000", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", http.MethodPatch)
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key, if-match, if-none-match")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"), "preflight")
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"idempotency-key", "if-match", "if-none-match", "authorization"} {
		require.Contains(t, allowed, h)
	}
	r := b.doJSON(http.MethodGet, "/api/posts", "", "Origin", "https://app.example")
	exposed := r.header.Get("Access-Control-Expose-Headers")
	for _, h := range []string{"Etag", "Idempotent-Replayed", "Location", "Retry-After", "X-Request-Id", "Ratelimit"} {
		require.Contains(t, exposed, h)
	}
}
