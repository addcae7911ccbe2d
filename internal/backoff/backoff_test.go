package backoff_test

import (
	"context"
	"testing"
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

func TestSleep(t *testing.T) {
	if !backoff.Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep did not report the elapsed delay")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if backoff.Sleep(ctx, time.Hour) {
		t.Fatal("Sleep ignored a done context")
	}
}
