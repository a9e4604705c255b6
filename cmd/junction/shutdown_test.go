package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/logtest"
	"github.com/junction-dev/junction/impl/mailtest"
)

// TestGracefulShutdown sends SIGTERM to a real `junction serve` process while requests and a job are in flight:
// the requests complete, new connections are refused, the running job finishes, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := buildJunction(t)

	smtp := mailtest.Start(t)
	smtp.Delay(1500 * time.Millisecond) // the welcome job is still sending when the signal comes
	dbURL := dbtest.NewURL(t)
	port := freePort(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, fmt.Sprintf("PORT=%d", port), "SMTP_URL="+smtp.URL(),
		"JWT_SECRET=a shutdown test secret, 32 bytes ok", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=20s",
		// A costly hash keeps sign-ups in flight for a while.
		"ARGON2_MEMORY_KIB=131072", "ARGON2_ITERATIONS=4", "RATE_LIMIT_SIGNUP=0")
	logs := &logtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)

	signUp := func(i int) (int, error) {
		resp, err := http.Post(base+"/api/users", "application/json",
			strings.NewReader(fmt.Sprintf(`{"name":"U%d","email":"u%d@example.com","password":"long enough"}`, i, i)))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// One user first, so that its welcome email is being sent (slowly) when the signal comes.
	status, err := signUp(0)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status)
	time.Sleep(300 * time.Millisecond)

	var wg sync.WaitGroup
	statuses := make([]int, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() { statuses[i], errs[i] = signUp(i + 1) })
	}
	time.Sleep(200 * time.Millisecond) // the sign-ups are hashing
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(100 * time.Millisecond)
	_, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	require.Error(t, err, "new connections are refused once shutting down")

	wg.Wait()
	for i := range 4 {
		require.NoError(t, errs[i], "in-flight request %d", i)
		require.Equal(t, http.StatusCreated, statuses[i], "in-flight request %d completed", i)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("exit code %d\n%s", exit.ExitCode(), logs.String())
		}
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("the process did not exit\n%s", logs.String())
	}

	// The job that was running finished: the welcome email went out and the job completed.
	require.NotEmpty(t, smtp.All(), "the running job's email was sent")
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var completed int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&completed))
	require.GreaterOrEqual(t, completed, 1)
}

// TestADrainingServerLeavesTheBalancerFirst: with SHUTDOWN_DRAIN_DELAY, a SIGTERM turns /readyz to 503 at once
// while every other request, on new connections too, is still served; the server stops taking connections only
// after the delay, and exits 0.
func TestADrainingServerLeavesTheBalancerFirst(t *testing.T) {
	t.Parallel()
	bin := buildJunction(t)
	port := freePort(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbtest.NewURL(t), fmt.Sprintf("PORT=%d", port),
		"JWT_SECRET=a drain test secret, 32 bytes long ok", "LOG_LEVEL=warn", "SHUTDOWN_DRAIN_DELAY=3s", "MAIL_TRANSPORT=log")
	logs := &logtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(path string) int {
		// A new connection each time, as a balancer's check opens.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := c.Get(base + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Eventually(t, func() bool { return get("/readyz") == http.StatusOK }, 30*time.Second, 50*time.Millisecond, "%s", logs)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool { return get("/readyz") == http.StatusServiceUnavailable }, 2*time.Second, 20*time.Millisecond,
		"no longer ready at once")
	require.Equal(t, http.StatusOK, get("/api/posts"), "still serving while the balancer takes it out")
	require.Equal(t, http.StatusOK, get("/healthz"), "alive all the same")

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the process did not exit\n%s", logs.String())
	}
	require.Equal(t, 0, get("/api/posts"), "no connection once stopped")
}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// buildJunction builds the binary once for the tests that run it as a real process, and returns its path.
func buildJunction(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "junction-bin-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "junction")
		build.out, build.err = exec.Command("go", "build", "-o", build.bin, ".").CombinedOutput()
	})
	require.NoError(t, build.err, "%s", build.out)
	return build.bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
