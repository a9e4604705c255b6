package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAnIdempotencyKeyReplaysTheFirstAnswer: a retry with the same key and request gets the first answer byte
// for byte, marked replayed, and writes nothing; the draft's quoted form is the same key; the key with another
// body is refused (422); another caller's key of the same text is theirs.
func TestAnIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	_, grace := b.signUp("Grace", "grace@example.com")
	post := `{"title":"Once","content":"Only once.","published":true}`
	key := []string{"Idempotency-Key", "8e0c4e1a-5b7f-4c1d-9a3e-2f6b8d0c1e57"}
	headers := append(withToken(ada), key...)

	first := b.doJSON(http.MethodPost, "/api/posts", post, headers...)
	require.Equal(t, http.StatusCreated, first.status, string(first.body))
	require.Empty(t, first.header.Get("Idempotent-Replayed"))
	again := b.doJSON(http.MethodPost, "/api/posts", post, headers...)
	require.Equal(t, http.StatusCreated, again.status)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, string(first.body), string(again.body), "byte for byte")
	require.Equal(t, first.header.Get("Location"), again.header.Get("Location"))
	require.Equal(t, first.header.Get("Content-Type"), again.header.Get("Content-Type"))
	require.NotEqual(t, first.header.Get("X-Request-Id"), again.header.Get("X-Request-Id"), "the replay's own request")
	quoted := b.doJSON(http.MethodPost, "/api/posts", post, append(withToken(ada), "Idempotency-Key", `"`+key[1]+`"`)...)
	require.Equal(t, "true", quoted.header.Get("Idempotent-Replayed"), "the draft's quoted form is the same key")
	require.Equal(t, 1, b.count("posts"))

	other := b.doJSON(http.MethodPost, "/api/posts", `{"title":"Twice","content":"Another.","published":true}`, headers...)
	require.Equal(t, http.StatusUnprocessableEntity, other.status, string(other.body))
	other.envelope(t)
	require.Contains(t, string(other.body), "was used for another request")
	require.Equal(t, 1, b.count("posts"))

	theirs := b.doJSON(http.MethodPost, "/api/posts", post, append(withToken(grace), key...)...)
	require.Equal(t, http.StatusCreated, theirs.status)
	require.Empty(t, theirs.header.Get("Idempotent-Replayed"), "keys are the caller's")
	require.Equal(t, 2, b.count("posts"))

	// Anonymous callers' keys are their address's: a sign-up retried is one account.
	signUp := `{"name":"Hopper","email":"hopper@example.com","password":"long enough"}`
	for i := range 2 {
		r := b.doJSON(http.MethodPost, "/api/users", signUp, "Idempotency-Key", "sign-up-1")
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		require.Equal(t, i == 1, r.header.Get("Idempotent-Replayed") == "true")
	}
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE email = 'hopper@example.com'").Scan(&n))
	require.Equal(t, 1, n)
}

// TestOneKeyAtOnceRunsOnce: 100 requests at once with one key make one post; each answer is the stored one
// (replayed) or a 409 with Retry-After for a request that came while the first was running.
func TestOneKeyAtOnceRunsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	headers := append(withToken(ada), "Idempotency-Key", "at-once")
	const n = 100
	var wg sync.WaitGroup
	answers := make([]response, n)
	for i := range n {
		wg.Go(func() {
			answers[i] = b.doJSON(http.MethodPost, "/api/posts", `{"title":"At once","content":"Once.","published":false}`, headers...)
		})
	}
	wg.Wait()
	var created, replayed, running int
	var body string
	for _, a := range answers {
		switch a.status {
		case http.StatusCreated:
			if a.header.Get("Idempotent-Replayed") == "true" {
				replayed++
			} else {
				created++
			}
			if body == "" {
				body = string(a.body)
			}
			require.Equal(t, body, string(a.body))
		case http.StatusConflict:
			running++
			require.Equal(t, "1", a.header.Get("Retry-After"))
			a.envelope(t)
		default:
			t.Fatalf("unexpected %d: %s\n%s", a.status, a.body, unavailableLines(b.logs.String()))
		}
	}
	require.Equal(t, 1, created, "one execution")
	require.Equal(t, n, created+replayed+running)
	require.Equal(t, 1, b.count("posts"))
	require.Equal(t, 1, b.count("idempotency_keys"))
}

// TestOnlySuccessesAreStored: a keyed request that fails (a 404, a 400) stores nothing and runs again when
// retried; a keyed request past its key's time runs again.
func TestOnlySuccessesAreStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	headers := append(withToken(ada), "Idempotency-Key", "fails")
	missing := "/api/posts/6b1f2c1e-4a0f-4f53-9a55-b1e0a2f1c0de/publish"
	for range 2 {
		r := b.doJSON(http.MethodPost, missing, "", headers...)
		require.Equal(t, http.StatusNotFound, r.status, string(r.body))
		require.Empty(t, r.header.Get("Idempotent-Replayed"))
	}
	bad := b.doJSON(http.MethodPost, "/api/posts", `{"title":""}`, headers...)
	require.Equal(t, http.StatusBadRequest, bad.status)
	require.Zero(t, b.count("idempotency_keys"))

	post := `{"title":"Kept","content":"A day.","published":true}`
	kept := append(withToken(ada), "Idempotency-Key", "expires")
	require.Equal(t, http.StatusCreated, b.doJSON(http.MethodPost, "/api/posts", post, kept...).status)
	_, err := b.pool.Exec(context.Background(), "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
	require.NoError(t, err)
	again := b.doJSON(http.MethodPost, "/api/posts", post, kept...)
	require.Equal(t, http.StatusCreated, again.status)
	require.Empty(t, again.header.Get("Idempotent-Replayed"), "past its time the key runs again")
	require.Equal(t, 2, b.count("posts"), "the run that met the expired answer was rolled back, then run again")
	require.Equal(t, 1, b.count("idempotency_keys"), "the expired answer replaced")
	require.Equal(t, "true", b.doJSON(http.MethodPost, "/api/posts", post, kept...).header.Get("Idempotent-Replayed"))
}

// TestAKeyCoversThePreconditions: a key's request is its preconditions too. Retried with the same If-Match it
// replays; with another If-Match, or none, or with If-None-Match, it is another request (422).
func TestAKeyCoversThePreconditions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	created := b.doJSON(http.MethodPost, "/api/posts", `{"title":"Draft","content":"Text."}`, withToken(ada)...)
	require.Equal(t, http.StatusCreated, created.status, string(created.body))
	var p struct{ Data struct{ ID string } }
	require.NoError(t, json.Unmarshal(created.body, &p))
	path, tag := "/api/posts/"+p.Data.ID, created.header.Get("ETag")
	body := `{"title":"Edited"}`
	keyed := append(withToken(ada), "Idempotency-Key", "edit-1")

	first := b.doJSON(http.MethodPatch, path, body, append(keyed, "If-Match", tag)...)
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	again := b.doJSON(http.MethodPatch, path, body, append(keyed, "If-Match", tag)...)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"), string(again.body))
	for _, other := range [][]string{{"If-Match", `"999"`}, nil, {"If-None-Match", `"999"`}, {"If-Match", tag, "If-None-Match", `"999"`}} {
		r := b.doJSON(http.MethodPatch, path, body, append(slices.Clone(keyed), other...)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", other, r.body)
	}
}

// TestIdempotencyKeysAreChecked: a key longer than 255 characters, with a space, empty quotes or a non-ASCII
// character is a 400 before anything runs.
func TestIdempotencyKeysAreChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	for _, key := range []string{strings.Repeat("k", 256), "two words", `""`, "caf\u00e9", `"a"b"`} {
		r := b.doJSON(http.MethodPost, "/api/posts", `{"title":"T","content":"C"}`, append(withToken(ada), "Idempotency-Key", key)...)
		require.Equal(t, http.StatusBadRequest, r.status, fmt.Sprintf("%q: %s", key, r.body))
		r.envelope(t)
	}
	ok := b.doJSON(http.MethodPost, "/api/posts", `{"title":"T","content":"C"}`, append(withToken(ada), "Idempotency-Key", strings.Repeat("k", 255))...)
	require.Equal(t, http.StatusCreated, ok.status, string(ok.body))
	require.Equal(t, 1, b.count("posts"))
}

// TestARetriedPasswordChangeGetsItsFirstAnswer: the retry of a password change, whose current password is no
// longer current once the first one ran, is answered with the first 200 (its key's answer), not a refusal of
// the password; the key reused for another change is a 422. The change ends the session that made it (tokens
// issued before it, to the second), so the retry comes with a token issued after it, as a client that signed in
// again with the new password has: the key is the account's, whichever token carries it.
func TestARetriedPasswordChangeGetsItsFirstAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	change := fmt.Sprintf(`{"password":"a new long one","currentPassword":%q}`, testPassword)
	first := b.doJSON(http.MethodPatch, "/api/users/"+ada.Id.String(), change, append(withToken(token), "Idempotency-Key", "change-password")...)
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	time.Sleep(time.Second) // a token of the next second: one the change did not end
	headers := append(withToken(b.login("ada@example.com", "a new long one")), "Idempotency-Key", "change-password")
	again := b.doJSON(http.MethodPatch, "/api/users/"+ada.Id.String(), change, headers...)
	require.Equal(t, http.StatusOK, again.status, string(again.body))
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, string(first.body), string(again.body))
	other := b.doJSON(http.MethodPatch, "/api/users/"+ada.Id.String(), `{"password":"another long one","currentPassword":"wrong"}`, headers...)
	require.Equal(t, http.StatusUnprocessableEntity, other.status, string(other.body))
}

func unavailableLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "unavailable") || strings.Contains(l, "ERROR") {
			out = append(out, l)
		}
	}
	return strings.Join(out[:min(len(out), 5)], "\n")
}
