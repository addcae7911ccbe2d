package api

import (
	"sync"
	"time"
)

// maxLimiterEntries bounds the failure limiter's memory when many
// addresses fail at once.
const maxLimiterEntries = 10000

// failureLimiter counts failed authentications per client address in
// fixed windows, so that admin tokens cannot be guessed at speed. A nil
// *failureLimiter limits nothing.
type failureLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

func newFailureLimiter(limit int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, now: now, entries: map[string]failureWindow{}}
}

// retryAfter returns how long addr must wait, or 0 if it may try.
func (l *failureLimiter) retryAfter(addr string) time.Duration {
	if l == nil {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.entries[addr]
	if !ok || now.Sub(w.start) >= l.window {
		return 0
	}
	if w.count < l.limit {
		return 0
	}
	return w.start.Add(l.window).Sub(now)
}

// fail counts one failed authentication from addr.
func (l *failureLimiter) fail(addr string) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.entries[addr]
	if !ok || now.Sub(w.start) >= l.window {
		if !ok && len(l.entries) >= maxLimiterEntries {
			l.pruneLocked(now)
		}
		w = failureWindow{start: now}
	}
	w.count++
	l.entries[addr] = w
}

// pruneLocked drops expired windows; if all are live, it forgets them all
// rather than grow without bound (failing open beats running out of
// memory). The caller must hold l.mu.
func (l *failureLimiter) pruneLocked(now time.Time) {
	for addr, w := range l.entries {
		if now.Sub(w.start) >= l.window {
			delete(l.entries, addr)
		}
	}
	if len(l.entries) >= maxLimiterEntries {
		clear(l.entries)
	}
}
