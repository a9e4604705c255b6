package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
)

// TestHostileGraphQL sends a real `junction serve`, with its production defaults, what once took it to 3.3 GB:
// the amplification query (by aliases and through fragments), answers made of many 50,000-character posts, and
// a batch array carrying a password, several at once. Each is refused, none is echoed, and the process's peak
// resident memory (VmHWM) stays under 512 MB.
func TestHostileGraphQL(t *testing.T) {
	t.Parallel()
	cmd, dbURL, base, logs := startHostileTarget(t)

	send := func(token, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	gql := func(query string) string {
		b, err := json.Marshal(map[string]any{"query": query})
		require.NoError(t, err)
		return string(b)
	}
	code := func(body string) string {
		var r struct {
			Errors []struct{ Extensions map[string]any } `json:"errors"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &r), "%.300s", body)
		require.NotEmpty(t, r.Errors, "%.300s", body)
		c, _ := r.Errors[0].Extensions["code"].(string)
		return c
	}

	status, body := send("", gql(`mutation { createUser(input: {name: "Ada", email: "ada@example.com", password: "long enough"}) { id } }`))
	require.Equal(t, http.StatusOK, status, body)
	_, body = send("", gql(`mutation { login(email: "ada@example.com", password: "long enough") { accessToken user { id } } }`))
	var login struct {
		Data struct {
			Login struct {
				AccessToken string
				User        struct{ ID string }
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &login))
	token := login.Data.Login.AccessToken
	require.NotEmpty(t, token)

	// 100 users, each with a post; 400 posts of 50,000 characters, each with comments.
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	for _, q := range []string{
		`INSERT INTO users (name, email, password_hash) SELECT 'U' || g, 'u' || g || '@example.com', 'x' FROM generate_series(1, 100) g`,
		`INSERT INTO posts (author_id, title, content, published, published_at) SELECT u.id, 'P', 'short', true, now() FROM users u`,
		`INSERT INTO posts (author_id, title, content, published, published_at)
			SELECT '` + login.Data.Login.User.ID + `', 'Big ' || g, repeat('x', 50000), true, now() FROM generate_series(1, 400) g`,
		`INSERT INTO comments (post_id, author_id, content) SELECT p.id, p.author_id, repeat('c', 1000) FROM posts p, generate_series(1, 20)`,
	} {
		_, err := conn.Exec(context.Background(), q)
		require.NoError(t, err, q)
	}

	const sel = `edges { node { posts { comments { id content createdAt } } } }`
	var aliases, fragments strings.Builder
	aliases.WriteString(`query {`)
	fragments.WriteString(`query {`)
	for i := range 20 {
		fmt.Fprintf(&aliases, ` u%d: users(limit: 100) { %s }`, i, sel)
		fmt.Fprintf(&fragments, ` u%d: users(limit: 100) { ...U }`, i)
	}
	aliases.WriteString(` }`)
	fragments.WriteString(` } fragment U on UserConnection { edges { node { posts { ...C } } } } fragment C on Post { comments { id content createdAt } }`)
	var big strings.Builder
	big.WriteString(`query {`)
	for i := range 5 {
		fmt.Fprintf(&big, ` p%d: posts(first: 100) { edges { node { content comments(limit: 50) { content } } } }`, i)
	}
	big.WriteString(` }`)
	const secret = "hunter2-correct-horse"
	batch := `[` + strings.Repeat(`{"query":"mutation { login(email: \"ada@example.com\", password: \"`+secret+`\") { accessToken } }"},`, 50) + `{"query":"{ __typename }"}]`

	hostile := []struct {
		name, body, code string
		status           int
	}{
		{"amplification by aliases", gql(aliases.String()), "QUERY_TOO_COMPLEX", http.StatusOK},
		{"amplification through fragments", gql(fragments.String()), "QUERY_TOO_COMPLEX", http.StatusOK},
		{"big content", gql(big.String()), "RESPONSE_TOO_LARGE", http.StatusOK},
		{"big content, one page", gql(`query { posts(first: 100) { edges { node { content } } } }`), "RESPONSE_TOO_LARGE", http.StatusOK},
		{"batch array", batch, "BAD_USER_INPUT", http.StatusBadRequest},
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, h := range hostile {
			for range 4 {
				wg.Go(func() {
					start := time.Now()
					status, body := send(token, h.body)
					if status != h.status || code(body) != h.code || strings.Contains(body, secret) {
						t.Errorf("%s: %d %.300s", h.name, status, body)
					}
					if round == 0 {
						t.Logf("%s: %d bytes in %v", h.name, len(body), time.Since(start).Round(time.Millisecond))
					}
				})
			}
		}
		wg.Wait()
	}
	// A fair query still answers.
	status, body = send(token, gql(`query { users(limit: 20) { edges { node { posts { comments { author { id } } } } } } }`))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `"users":{"edges":[`)

	hwm := peakRSS(t, cmd.Process.Pid)
	t.Logf("junction serve's peak RSS (VmHWM): %d MB", hwm>>20)
	require.Less(t, hwm, int64(512<<20), "peak RSS")
	require.NotContains(t, logs.String(), secret)
}

// peakRSS reads a process's VmHWM (its peak resident set) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// TestHostileGraphQLDocuments sends a real `junction serve`, with its production defaults, the documents that
// once cost it seconds of CPU or a gigabyte each (the outside review's F1 to F4), several at once: 3,000 aliases
// of an introspection fragment (6-8 s and 28 MB each), {__typename ×5890} and one list field ×2,700 (3.4 and
// 4.5 s of validation), 1,600 conflicting aliases (a 166 MB answer of errors, 1.18 GB resident) and a fragment
// bomb of 28 (55 s of CPU). Each is refused with QUERY_TOO_LARGE in a short answer within a second, and the
// process's peak resident memory stays under 512 MB.
func TestHostileGraphQLDocuments(t *testing.T) {
	t.Parallel()
	cmd, _, base, _ := startHostileTarget(t)

	const introFragment = `fragment F on __Schema{types{name kind description fields(includeDeprecated:true){name description isDeprecated args{name description defaultValue type{name kind ofType{name kind ofType{name kind ofType{name}}}}} type{name kind ofType{name kind ofType{name kind ofType{name}}}}}}}`
	var intro, conflicts, bomb strings.Builder
	intro.WriteString("{")
	for i := range 3000 {
		fmt.Fprintf(&intro, "a%d:__schema{...F} ", i)
	}
	intro.WriteString("} " + introFragment)
	conflicts.WriteString("{")
	for i := range 1600 {
		if i%2 == 0 {
			conflicts.WriteString("a:posts{totalCount} ")
		} else {
			conflicts.WriteString("a:__typename ")
		}
	}
	conflicts.WriteString("}")
	bomb.WriteString("{...F0} ")
	for i := range 27 {
		fmt.Fprintf(&bomb, "fragment F%d on Query{...F%d ...F%d} ", i, i+1, i+1)
	}
	bomb.WriteString("fragment F27 on Query{__typename}")
	hostile := []struct{ name, query string }{
		{"F1 introspection aliases", intro.String()},
		{"F2 __typename x5890", "{" + strings.Repeat("__typename ", 5890) + "}"},
		{"F2 a list field x2700", "query{" + strings.Repeat("posts{edges{node{id}}} ", 2700) + "}"},
		{"F3 conflicting aliases x1600", conflicts.String()},
		{"F4 fragment bomb k=28", bomb.String()},
	}
	var wg sync.WaitGroup
	for _, h := range hostile {
		for i := range 8 {
			wg.Go(func() {
				// A comment of its own makes each request miss the query cache, as an attacker's would.
				body, err := json.Marshal(map[string]any{"query": fmt.Sprintf("# %d\n%s", i, h.query)})
				if err != nil {
					t.Error(err)
					return
				}
				start := time.Now()
				resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(string(body)))
				if err != nil {
					t.Error(err)
					return
				}
				answer, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				took := time.Since(start)
				if err != nil || len(answer) > 1<<10 || !strings.Contains(string(answer), `"code":"QUERY_TOO_LARGE"`) || took > 2*time.Second {
					t.Errorf("%s: %d, %d bytes in %v: %.300s", h.name, resp.StatusCode, len(answer), took, answer)
				}
				if i == 0 {
					t.Logf("%s (%d bytes): %d bytes in %v", h.name, len(body), len(answer), took.Round(time.Millisecond))
				}
			})
		}
	}
	wg.Wait()
	hwm := peakRSS(t, cmd.Process.Pid)
	t.Logf("junction serve's peak RSS (VmHWM): %d MB", hwm>>20)
	require.Less(t, hwm, int64(512<<20), "peak RSS")
}

// startHostileTarget starts a real `junction serve` with production defaults (but a cheap argon2 and no default
// limit, so that the attacks, not the limits, are what is measured) on a fresh database, and waits until it is
// ready.
func startHostileTarget(t *testing.T) (cmd *exec.Cmd, dbURL, base string, logs *logtest.Buffer) {
	t.Helper()
	bin := buildJunction(t)
	dbURL = dbtest.NewURL(t)
	port := freePort(t)
	cmd = exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, fmt.Sprintf("PORT=%d", port),
		"JWT_SECRET=a hostile test secret, 32 bytes ok", "LOG_LEVEL=warn", "ARGON2_MEMORY_KIB=64", "ARGON2_ITERATIONS=1",
		"RATE_LIMIT_DEFAULT=0", "MAIL_TRANSPORT=log")
	logs = &logtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
	return cmd, dbURL, base, logs
}
