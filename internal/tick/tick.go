// Package tick holds the loop behind every periodic chore in Herald
// (heartbeats, lease renewals, sweeps): run something every interval, or
// at once when asked, until the context ends.
package tick

import (
	"context"
	"time"
)

// Every calls f every interval, and also whenever wake receives, until
// ctx is done; a wake-up does not move the next tick. A nil wake never
// fires. f runs on the caller's goroutine, so a slow f delays the next
// call rather than overlapping it. interval must be positive.
func Every(ctx context.Context, interval time.Duration, wake <-chan struct{}, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		f()
	}
}
