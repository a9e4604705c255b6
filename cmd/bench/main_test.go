package main

import (
	"math"
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

// TestKeyCostRatios: a pair's time ratio is the unkeyed run's requests/s over the keyed one's (time a request),
// its CPU ratio the keyed run's CPU a request, server and PostgreSQL together, over the unkeyed one's.
func TestKeyCostRatios(t *testing.T) {
	r := keyCostResult{
		plain: []result{{rps: 1000, cpuPerRequest: 600 * time.Microsecond, dbCPUPerRequest: 400 * time.Microsecond}},
		keyed: []result{{rps: 800, cpuPerRequest: 700 * time.Microsecond, dbCPUPerRequest: 500 * time.Microsecond}},
	}
	if got := r.ratios(); len(got) != 1 || got[0] != 1.25 {
		t.Fatalf("time ratio %v, want [1.25]", got)
	}
	if got := r.cpuRatios(); len(got) != 1 || math.Abs(got[0]-1.2) > 1e-9 {
		t.Fatalf("CPU ratio %v, want [1.2]", got)
	}
}
