package testinfra

import (
	"testing"
	"time"
)

// WaitUntil's polling: quick at first, so that a condition about to hold
// costs little time, then slower, so that a long wait on a condition
// that calls a server (an HTTP request, a KV read) does not load it.
const (
	WaitPoll    = 5 * time.Millisecond
	WaitPollMax = 50 * time.Millisecond
)

// WaitTimeout bounds WaitUntil. Generous, because the test machine may be
// small and shared: a condition that holds returns at once, and only a
// failing test waits this long.
const WaitTimeout = time.Minute

// WaitUntil polls cond until it holds, failing the test after WaitTimeout.
// what names the condition in the failure. cond runs on the caller's
// goroutine, so it may call tb.Fatal.
func WaitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	WaitUntilWithin(tb, what, WaitTimeout, cond)
}

// WaitUntilWithin polls cond until it holds, failing the test after
// timeout: for tests whose deadline is part of what they check.
func WaitUntilWithin(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	poll := WaitPoll
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(poll)
		poll = min(2*poll, WaitPollMax)
	}
}

// WaitReady waits until ready is closed (a Ready channel), failing the
// test after WaitTimeout.
func WaitReady(tb testing.TB, what string, ready <-chan struct{}) {
	tb.Helper()
	select {
	case <-ready:
	case <-time.After(WaitTimeout):
		tb.Fatalf("%s not ready after %s", what, WaitTimeout)
	}
}
