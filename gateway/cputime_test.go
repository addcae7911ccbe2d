package gateway

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this process has used, user and system. The
// fan-out benchmarks report it per delivery beside wall time: on a
// shared machine another process's load stretches wall time far more
// than it stretches the CPU time a delivery costs.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
