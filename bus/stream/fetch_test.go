package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
)

// TestPause: after a full batch the next fetch is due at once; after a
// short one Pause waits, and gives up when its context is done.
func TestPause(t *testing.T) {
	t.Parallel()
	// An hour: a Pause that waited would time the test out.
	const wait = time.Hour
	if !stream.Pause(t.Context(), 10, 10, wait) {
		t.Error("Pause after a full batch = false; want true at once")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if stream.Pause(ctx, 10, 10, wait) {
		t.Error("Pause after a full batch with its context done = true; want false")
	}
	if stream.Pause(ctx, 3, 10, wait) {
		t.Error("Pause after a short batch with its context done = true; want false")
	}
	short := 5 * stream.FetchLinger
	start := time.Now()
	if !stream.Pause(t.Context(), 0, 10, short) {
		t.Error("Pause after an empty batch = false; want true")
	}
	// The next fetch lingers min(FetchLinger, wait): together they wait
	// at most wait.
	if elapsed, want := time.Since(start), short-min(stream.FetchLinger, short); elapsed < want {
		t.Errorf("Pause after an empty batch returned after %s; want at least %s", elapsed, want)
	}
}
