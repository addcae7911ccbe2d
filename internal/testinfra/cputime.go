package testinfra

import (
	"syscall"
	"testing"
	"time"
)

// ProcessCPU is the CPU time this process has used, user and system.
// Benchmarks report it per operation beside wall time: on a shared
// machine another process's load, and every wait for NATS or PostgreSQL,
// stretch wall time far more than they stretch the CPU an operation
// costs.
func ProcessCPU(tb testing.TB) time.Duration {
	ru := rusage(tb)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ContextSwitches is how many times this process's threads have given up
// their CPU, voluntarily (to wait: a futex, a poll) or not. Benchmarks
// report it per operation as a count of wake-ups.
func ContextSwitches(tb testing.TB) int64 {
	ru := rusage(tb)
	return int64(ru.Nvcsw) + int64(ru.Nivcsw)
}

func rusage(tb testing.TB) *syscall.Rusage {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("testinfra: getrusage: %v", err)
	}
	return &ru
}
