package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// expireKeys puts every stored answer past its time, as the prune job has not yet deleted it.
func (b *testBundle) expireKeys() {
	b.t.Helper()
	_, err := b.pool.Exec(context.Background(), "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
	require.NoError(b.t, err)
}

// TestManyAtOnceWithAnExpiredKey: 50 requests at once with a key whose answer has expired (not pruned) make one
// new execution, of every keyed kind: one new row, one job, no 5xx, and the key then holds one answer, which the
// others replay or wait for (409 with Retry-After).
func TestManyAtOnceWithAnExpiredKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, table string
		auth              bool
		body              func(i int) string
		jobs              string // river_job rows of the operation, or ""
	}{
		{"a post", "/api/posts", "posts", true, func(int) string { return `{"title":"At once","content":"Once."}` }, ""},
		{"a sign-up", "/api/users", "users", false, func(int) string {
			return `{"name":"Hopper","email":"hopper@example.com","password":"` + testPassword + `"}`
		}, "welcome"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, ada := b.signUp("Ada", "ada@example.com")
			headers := []string{"Idempotency-Key", "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"}
			if c.auth {
				headers = append(headers, withToken(ada)...)
			}
			// The expired answer is another request's (another sign-up): the key is free again all the same.
			first := b.doJSON(http.MethodPost, c.path, strings.Replace(c.body(0), "hopper@", "first@", 1), headers...)
			require.Equal(t, http.StatusCreated, first.status, string(first.body))
			before, jobs := b.count(c.table), b.jobsOf(c.jobs)
			b.expireKeys()

			const n = 50
			answers := make([]response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { answers[i] = b.doJSON(http.MethodPost, c.path, c.body(i), headers...) })
			}
			wg.Wait()
			var created int
			var body string
			for _, a := range answers {
				switch a.status {
				case http.StatusCreated:
					if a.header.Get("Idempotent-Replayed") != "true" {
						created++
					}
					if body == "" {
						body = string(a.body)
					}
					require.Equal(t, body, string(a.body), "one answer")
				case http.StatusConflict:
					require.Equal(t, "1", a.header.Get("Retry-After"), string(a.body))
					a.envelope(t)
				default:
					t.Fatalf("unexpected %d: %s", a.status, a.body)
				}
			}
			require.Equal(t, 1, created, "one new execution")
			require.Equal(t, before+1, b.count(c.table))
			require.Equal(t, jobs+min(1, len(c.jobs)), b.jobsOf(c.jobs))
			require.Equal(t, 1, b.count("idempotency_keys"))
			again := b.doJSON(http.MethodPost, c.path, c.body(0), headers...)
			require.Equal(t, "true", again.header.Get("Idempotent-Replayed"), string(again.body))
			require.Equal(t, body, string(again.body))
		})
	}
}

// jobsOf counts the email jobs of type kind ("": none asked for).
func (b *testBundle) jobsOf(kind string) int {
	b.t.Helper()
	if kind == "" {
		return 0
	}
	var n int
	require.NoError(b.t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE args->>'type' = $1", kind).Scan(&n))
	return n
}

// TestAKeyThatExpiresWhileItsRequestRuns: a retry whose key held a live answer when it started, which expired
// while it ran (its write held up), runs again once: one new post, stored; another request with the key meanwhile
// is told to wait (409), never a second execution.
func TestAKeyThatExpiresWhileItsRequestRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	post := `{"title":"Held","content":"Up."}`
	headers := append(withToken(ada), "Idempotency-Key", "held-up")
	require.Equal(t, http.StatusCreated, b.doJSON(http.MethodPost, "/api/posts", post, headers...).status)

	ctx := context.Background()
	lock, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback(ctx) }()
	_, err = lock.Exec(ctx, "LOCK TABLE posts IN EXCLUSIVE MODE")
	require.NoError(t, err)
	done := make(chan response)
	go func() { done <- b.doJSON(http.MethodPost, "/api/posts", post, headers...) }()
	// Until its INSERT waits on the lock: it holds the key's lock by then.
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO posts%' AND pid <> pg_backend_pid()").Scan(&waiting))
		return waiting == 1
	}, 10*time.Second, 10*time.Millisecond)
	b.expireKeys()
	meanwhile := b.doJSON(http.MethodPost, "/api/posts", post, headers...)
	require.Equal(t, http.StatusConflict, meanwhile.status, string(meanwhile.body))
	require.NoError(t, lock.Rollback(ctx))

	r := <-done
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Empty(t, r.header.Get("Idempotent-Replayed"), "its key's answer expired while it ran")
	require.Equal(t, 2, b.count("posts"))
	require.Equal(t, 1, b.count("idempotency_keys"))
	require.Equal(t, "true", b.doJSON(http.MethodPost, "/api/posts", post, headers...).header.Get("Idempotent-Replayed"))
}

// TestAUUIDv7KeyIsTheCallers: two callers sending one UUIDv7 key (any time, any case) each get their own
// execution; the key's other case is another key; a key of version 7 with a bad variant works as any key.
func TestAUUIDv7KeyIsTheCallers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	_, grace := b.signUp("Grace", "grace@example.com")
	post := `{"title":"Mine","content":"Yours."}`
	for _, key := range []string{
		"0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b",
		"0193A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B",
		"ffffffff-ffff-7fff-bfff-ffffffffffff", // the year 10889
		"00000000-0000-7000-8000-000000000000",
		"0193a1b2-c3d4-7e5f-ca6b-7c8d9e0f1a2b", // variant 110
	} {
		for _, token := range []string{ada, grace} {
			headers := append(withToken(token), "Idempotency-Key", key)
			first := b.doJSON(http.MethodPost, "/api/posts", post, headers...)
			require.Equal(t, http.StatusCreated, first.status, "%s: %s", key, first.body)
			require.Empty(t, first.header.Get("Idempotent-Replayed"), key)
			again := b.doJSON(http.MethodPost, "/api/posts", post, headers...)
			require.Equal(t, "true", again.header.Get("Idempotent-Replayed"), key)
			require.Equal(t, string(first.body), string(again.body), key)
		}
	}
	require.Equal(t, 10, b.count("posts"))
	require.Equal(t, 10, b.count("idempotency_keys"))
}

// TestPreconditionLinesAreOneRequest: a key's preconditions are their meaning, not their lines: If-Match sent on
// two lines and then joined on one is the same request, and replays.
func TestPreconditionLinesAreOneRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ada := b.signUp("Ada", "ada@example.com")
	created := b.doJSON(http.MethodPost, "/api/posts", `{"title":"Draft","content":"Text."}`, withToken(ada)...)
	require.Equal(t, http.StatusCreated, created.status)
	var p struct{ Data struct{ ID string } }
	require.NoError(t, json.Unmarshal(created.body, &p))
	tag := created.header.Get("ETag")
	patch := func(ifMatch ...string) response {
		req, err := http.NewRequest(http.MethodPatch, b.url+"/api/posts/"+p.Data.ID, strings.NewReader(`{"title":"Edited"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ada)
		req.Header.Set("Idempotency-Key", "lines")
		for _, v := range ifMatch {
			req.Header.Add("If-Match", v)
		}
		resp, err := b.http.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return response{status: resp.StatusCode, header: resp.Header, body: body}
	}
	first := patch(`"999"`, tag)
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	joined := patch(`"999", ` + tag)
	require.Equal(t, http.StatusOK, joined.status, string(joined.body))
	require.Equal(t, "true", joined.header.Get("Idempotent-Replayed"))
	require.Equal(t, string(first.body), string(joined.body))
	require.Equal(t, http.StatusUnprocessableEntity, patch(tag).status, "another precondition")
}

// TestReplacementAlreadyMadeIsStillChecked: the 200 of a PUT whose change is made already comes after every check
// the PUT would meet: another user's token is a 403, the current password is not needed (the email is the same),
// a weak or foreign tag fails If-Match as any stale one does, and a password change is never "already made".
func TestReplacementAlreadyMadeIsStillChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	_, grace := b.signUp("Grace", "grace@example.com")
	path := "/api/users/" + ada.Id.String()
	stale := b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag")
	made := b.doJSON(http.MethodPut, path, `{"name":"Ada L.","email":"ada@example.com"}`, append(withToken(token), "If-Match", stale)...)
	require.Equal(t, http.StatusOK, made.status, string(made.body))
	tag := made.header.Get("ETag")
	same := `{"name":"Ada L.","email":"ada@example.com"}`

	cases := []struct {
		name    string
		token   string
		body    string
		headers []string
		status  int
	}{
		{"another user's token", grace, same, []string{"If-Match", stale}, http.StatusForbidden},
		{"another user's token, no If-Match", grace, same, nil, http.StatusForbidden},
		{"a wrong current password, nothing to check it for", token, `{"name":"Ada L.","email":"ada@example.com","currentPassword":"wrong wrong wrong"}`, []string{"If-Match", stale}, http.StatusOK},
		{"the weak form of the current tag", token, same, []string{"If-Match", "W/" + tag}, http.StatusOK},
		{"a weak tag and another name", token, `{"name":"Ada","email":"ada@example.com"}`, []string{"If-Match", "W/" + tag}, http.StatusPreconditionFailed},
		{"a list of stale tags", token, same, []string{"If-Match", stale + `, W/"1", "x"`}, http.StatusOK},
		{"another email, its password right", token, `{"name":"Ada L.","email":"lovelace@example.com","currentPassword":"` + testPassword + `"}`, []string{"If-Match", stale}, http.StatusPreconditionFailed},
		{"another email, no password", token, `{"name":"Ada L.","email":"lovelace@example.com"}`, []string{"If-Match", stale}, http.StatusBadRequest},
		{"the email with a trailing dot", token, `{"name":"Ada L.","email":"ada@example.com."}`, []string{"If-Match", stale}, http.StatusBadRequest},
	}
	for _, c := range cases {
		r := b.doJSON(http.MethodPut, path, c.body, append(withToken(c.token), c.headers...)...)
		require.Equal(t, c.status, r.status, "%s: %s", c.name, r.body)
		if c.status == http.StatusOK {
			require.Equal(t, tag, r.header.Get("ETag"), c.name)
		}
	}
	require.Equal(t, tag, b.doJSON(http.MethodGet, path, "", withToken(token)...).header.Get("ETag"), "nothing changed")
}
