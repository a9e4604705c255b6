package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRequestRate: a scenario of unique requests counts only those that were unique; any other counts them all.
func TestRequestRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sum    wrkSummary
		unique bool
		want   float64
	}{
		{"no repeats", wrkSummary{Requests: 30_000, DurationMicros: 10e6}, true, 3_000},
		{"repeats left out", wrkSummary{Requests: 30_000, Repeated: 10_000, DurationMicros: 10e6}, true, 2_000},
		{"repeats of a scenario that may repeat", wrkSummary{Requests: 30_000, Repeated: 10_000, DurationMicros: 10e6}, false, 3_000},
		{"never below zero", wrkSummary{Requests: 10, Repeated: 20, DurationMicros: 1e6}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.InDelta(t, tt.want, requestRate(tt.sum, tt.unique), 1e-9)
		})
	}
}

// TestServerCPU: a process's parent is read from /proc, and a server's CPU counts its main process and children.
func TestServerCPU(t *testing.T) {
	t.Parallel()
	parent, ok := parentPID(os.Getpid())
	require.True(t, ok)
	require.Equal(t, os.Getppid(), parent)
	_, ok = parentPID(-1)
	require.False(t, ok, "no process")
	deadline := time.Now().Add(20 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	// This test's process as the "server": at least its own CPU, as processCPU counts it.
	own, all := processCPU(os.Getpid()), serverCPU(os.Getpid())
	require.GreaterOrEqual(t, all, own)
	require.Zero(t, serverCPU(0), "no server")
}
