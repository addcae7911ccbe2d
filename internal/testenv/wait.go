package testenv

import (
	"testing"
	"time"
)

// WaitPoll is how often WaitUntil checks its condition.
const WaitPoll = 5 * time.Millisecond

// WaitUntil polls cond until it holds, failing the test after timeout.
func WaitUntil(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(WaitPoll)
	}
}
