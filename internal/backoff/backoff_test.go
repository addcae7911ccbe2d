package backoff_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heraldhq/herald/internal/backoff"
)

func TestJitterRange(t *testing.T) {
	for i := 0; i < 1000; i++ {
		if j := backoff.Jitter(100 * time.Millisecond); j < 50*time.Millisecond || j > 100*time.Millisecond {
			t.Fatalf("Jitter = %s", j)
		}
	}
	if backoff.Jitter(0) != 0 {
		t.Fatal("Jitter(0) != 0")
	}
}

// TestSleep: Sleep waits exactly d, and not at all once its context is
// done. In a synctest bubble the hour passes at once.
func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !backoff.Sleep(t.Context(), time.Hour) {
			t.Fatal("Sleep did not report the elapsed delay")
		}
		if took := time.Since(start); took != time.Hour {
			t.Fatalf("Sleep(1h) took %s", took)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		start = time.Now()
		if backoff.Sleep(ctx, time.Hour) {
			t.Fatal("Sleep ignored a done context")
		}
		if took := time.Since(start); took != 0 {
			t.Fatalf("Sleep on a done context took %s", took)
		}
	})
}
