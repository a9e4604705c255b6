package main

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/junction-dev/junction/impl/config"
)

// memoryLimitRatio is the share of the container's memory limit that GOMEMLIMIT is set to when the environment
// sets none: the collector then works harder as the heap nears it, rather than let a high GOGC outgrow the
// container and be killed. The rest is for what Go does not count (the binary's pages, cgo, the kernel's buffers).
const memoryLimitRatio = 0.9

// tuneMemory sets the collector's defaults for a server, once, before anything allocates much: GOGC to
// [config.DefaultGCPercent] unless the environment sets it (the runtime has read it already), and GOMEMLIMIT to
// memoryLimitRatio of the cgroup's memory limit unless GOMEMLIMIT is set, AUTOMEMLIMIT=off, or there is no limit
// (make run, the bench); AUTOMEMLIMIT (a ratio) changes the share. At GOGC=300 the nested GraphQL query's server
// CPU fell by a third (docs/performance.md, "The garbage collector's default"). The heap may then grow to four times what is live,
// which the memory limit bounds where the process has one.
func tuneMemory(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(config.DefaultGCPercent)
	}
	// Set logs nothing here: its failures leave the runtime's own limit (none), and runWith logs what holds.
	_, _ = memlimit.Set(memlimit.WithRatio(memoryLimitRatio), memlimit.WithProvider(memlimit.FromCgroup),
		memlimit.WithLogger(slog.New(slog.DiscardHandler)))
}

// memorySettings are the collector's settings in effect, as the runtime reports them, for the start-up log line:
// the GC percent (-1 for off) and the memory limit in bytes (math.MaxInt64 for none).
func memorySettings() (gcPercent, memoryLimit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		gcPercent = int64(s[0].Value.Uint64())
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		memoryLimit = int64(s[1].Value.Uint64())
	}
	return gcPercent, memoryLimit
}
