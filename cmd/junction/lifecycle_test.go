package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/redistest"
)

// TestServeStartsAndStopsInOrder: serve starts its components in the order main.go documents (each after what
// it uses) and stops them in reverse, the API server first, so that the requests it drains still find the rest
// running.
func TestServeStartsAndStopsInOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		redis bool
		want  []string
	}{
		{"limits in process", false, []string{"tracer provider", "metrics server", "event listener", "webhook intake", "river ui", "river workers", "websockets", "api server"}},
		{"limits in Redis", true, []string{"tracer provider", "metrics server", "event listener", "webhook intake", "rate-limit store", "river ui", "river workers", "websockets", "api server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"DATABASE_URL": dbtest.NewURL(t), "LOG_LEVEL": "debug", "METRICS_ADDR": "127.0.0.1:0"}
			if tt.redis {
				vars["REDIS_URL"] = redistest.Start(t).URL()
			}
			s := startServe(t, vars)
			require.NoError(t, s.stop())
			var started, stopped []string
			sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var line struct{ Msg, Component string }
				if json.Unmarshal(sc.Bytes(), &line) != nil || line.Component == "" {
					continue
				}
				switch line.Msg {
				case "started":
					started = append(started, line.Component)
				case "stopped":
					stopped = append(stopped, line.Component)
				}
			}
			want := tt.want
			require.Equal(t, want, started)
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
			require.Equal(t, want, stopped)
		})
	}
}
