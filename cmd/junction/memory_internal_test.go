package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/config"
)

// TestTuneMemory: GOGC defaults to config.DefaultGCPercent, and one the environment sets is the runtime's; without a
// container limit (this machine's, and make run's), no memory limit is set. Not parallel: the settings are the
// process's.
func TestTuneMemory(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tests := []struct {
		name string
		gogc string
		// the runtime's percent before tuneMemory: what it read from GOGC
		before, want int64
	}{
		{name: "unset", gogc: "", before: 100, want: config.DefaultGCPercent},
		{name: "set by the operator", gogc: "150", before: 150, want: 150},
		{name: "off", gogc: "off", before: -1, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(int(tt.before))
			tuneMemory(func(k string) string { return map[string]string{"GOGC": tt.gogc}[k] })
			got, limit := memorySettings()
			if tt.want < 0 {
				require.Equal(t, -1, debug.SetGCPercent(-1), "GOGC=off stays off")
			} else {
				require.Equal(t, tt.want, got)
			}
			if limit != math.MaxInt64 {
				t.Logf("a memory limit of %d bytes: this process runs in a container with one", limit)
			}
		})
	}
}
