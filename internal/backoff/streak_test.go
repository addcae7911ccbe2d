package backoff_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/backoff"
)

// TestStreak: waits double from Base to Max, failures 1, 4, 7… are
// logged with LogEvery 3, and success starts over.
func TestStreak(t *testing.T) {
	s := backoff.Streak{Base: time.Second, Max: 5 * time.Second, LogEvery: 3}
	want := []struct {
		max time.Duration
		log bool
	}{
		{time.Second, true},
		{2 * time.Second, false},
		{4 * time.Second, false},
		{5 * time.Second, true},
		{5 * time.Second, false},
	}
	for round := range 2 {
		for i, w := range want {
			wait, log := s.Failed()
			if wait < w.max/2 || wait > w.max || log != w.log {
				t.Fatalf("round %d failure %d: wait %s log %v; want [%s, %s] log %v", round, i+1, wait, log, w.max/2, w.max, w.log)
			}
		}
		if n := s.Succeeded(); n != len(want) {
			t.Fatalf("Succeeded = %d; want %d", n, len(want))
		}
		if n := s.Succeeded(); n != 0 {
			t.Fatalf("Succeeded after success = %d; want 0", n)
		}
	}
}
