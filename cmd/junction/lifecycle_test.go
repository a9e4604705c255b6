package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
)

// TestServeStartsAndStopsInOrder: serve starts its components in the order main.go documents (each after what
// it uses) and stops them in reverse, the API server first, so that the requests it drains still find the rest
// running.
func TestServeStartsAndStopsInOrder(t *testing.T) {
	t.Parallel()
	s := startServe(t, map[string]string{
		"DATABASE_URL": dbtest.NewURL(t), "LOG_LEVEL": "debug", "METRICS_ADDR": "127.0.0.1:0",
	})
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
	want := []string{"tracer provider", "metrics server", "event listener", "webhook intake", "river ui", "river workers", "websockets", "api server"}
	require.Equal(t, want, started)
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	require.Equal(t, want, stopped)
}
