// Package redistest gives tests a real Redis: the shared server that `make test` starts (TEST_REDIS_URL, which
// tests share by giving their keys a prefix of their own), or a server of the test's own that it can stop and
// start again, for outages.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the variable that holds the shared server's URL.
const EnvURL = "TEST_REDIS_URL"

// URL is the shared server's URL; the test fails when it is not set.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts a local Redis (scripts/localredis.sh)", EnvURL)
	}
	return u
}

// Prefix is a key prefix no other test uses.
func Prefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}

// Server is a redis-server of one test's own, on a Unix socket (no port to collide with another test's), keeping
// nothing on disk. Stop really ends the process; Start runs a new one on the same socket.
type Server struct {
	t    testing.TB
	dir  string
	sock string
	cmd  *exec.Cmd
}

// Start runs a redis-server for t, stopped when t ends. redis-server must be installed
// (scripts/localredis.sh, which `make test` runs, installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	// Not t.TempDir: a socket's path must fit in 108 bytes, and test names are long.
	dir, err := os.MkdirTemp("", "redis")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, dir: dir, sock: filepath.Join(dir, "redis.sock")}
	t.Cleanup(func() {
		s.Stop()
		_ = os.RemoveAll(dir)
	})
	s.Start()
	return s
}

// URL is the server's URL.
func (s *Server) URL() string { return "unix://" + s.sock }

// Start runs the server unless it runs, and returns once it answers.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		s.t.Fatalf("redistest: redis-server is not installed: run `make test`, or apt-get install redis-server")
	}
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", s.sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	s.cmd = cmd
	client := redis.NewClient(&redis.Options{Network: "unix", Addr: s.sock, MaxRetries: -1, DisableIdentity: true})
	defer client.Close()
	deadline := time.Now().Add(30 * time.Second)
	for client.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatal("redistest: redis-server did not answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server, as a crash would, and waits for it to be gone.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused server dies as well
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	_ = os.Remove(s.sock)
	s.cmd = nil
}

// Pause freezes the server (SIGSTOP): it keeps its connections and answers nothing, as a hung or unreachable
// server does, until Resume.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume lets a paused server answer again (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("redistest: the server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: signal redis-server: %v", err)
	}
}
