package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
)

// TestSlowClientsCannotPinTheServer holds many connections open that trickle their headers or their body a byte
// at a time (slowloris): the server closes each one at its read deadline, and serves everyone else meanwhile.
func TestSlowClientsCannotPinTheServer(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{
		"DATABASE_URL": dbtest.NewURL(t), "HTTP_READ_HEADER_TIMEOUT": "1s", "HTTP_READ_TIMEOUT": "2s",
		"MAX_CONCURRENT_REQUESTS": "16", "RATE_LIMIT_DEFAULT": "0", "RATE_LIMIT_SIGNUP": "0",
	})
	addr := strings.TrimPrefix(s.base, "http://")

	tests := []struct {
		name     string
		start    string // sent at once
		deadline time.Duration
	}{
		{"headers never end", "GET /api/posts HTTP/1.1\r\nHost: junction\r\n", time.Second},
		{"body never ends", "POST /api/users HTTP/1.1\r\nHost: junction\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const conns = 100 // far more than MAX_CONCURRENT_REQUESTS
			closedAfter := make([]time.Duration, conns)
			var wg sync.WaitGroup
			for i := range conns {
				conn, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				t.Cleanup(func() { conn.Close() })
				_, err = io.WriteString(conn, tt.start)
				require.NoError(t, err)
				start := time.Now()
				wg.Go(func() {
					// Trickle a byte every 100 ms until the server hangs up (a write fails or a read ends).
					done := make(chan struct{})
					go func() {
						defer close(done)
						_, _ = io.Copy(io.Discard, bufio.NewReader(conn))
					}()
					tick := time.NewTicker(100 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-done:
							closedAfter[i] = time.Since(start)
							return
						case <-tick.C:
							if _, err := io.WriteString(conn, "a"); err != nil {
								<-done
								closedAfter[i] = time.Since(start)
								return
							}
						case <-time.After(10 * time.Second):
							return
						}
					}
				})
			}

			// Everyone else is served meanwhile.
			for range 10 {
				resp, err := http.Get(s.base + "/api/posts")
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				time.Sleep(50 * time.Millisecond)
			}
			wg.Wait()
			for i, d := range closedAfter {
				require.NotZero(t, d, "connection %d was never closed", i)
				require.Less(t, d, tt.deadline+2*time.Second, fmt.Sprintf("connection %d closed near its deadline", i))
			}
		})
	}
}
