package tick_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heraldhq/herald/internal/tick"
)

func TestEveryTicksAndWakes(t *testing.T) {
	const interval = time.Second
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		wake := make(chan struct{})
		var calls atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick.Every(ctx, interval, wake, func() { calls.Add(1) })
		}()

		synctest.Wait()
		if n := calls.Load(); n != 0 {
			t.Fatalf("%d calls before the first tick, want 0", n)
		}
		time.Sleep(interval)
		synctest.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("%d calls after one interval, want 1", n)
		}
		wake <- struct{}{}
		synctest.Wait()
		if n := calls.Load(); n != 2 {
			t.Fatalf("%d calls after a wake-up, want 2", n)
		}
		time.Sleep(2 * interval)
		synctest.Wait()
		if n := calls.Load(); n != 4 {
			t.Fatalf("%d calls after three intervals and a wake-up, want 4", n)
		}

		cancel()
		<-done
		time.Sleep(2 * interval)
		if n := calls.Load(); n != 4 {
			t.Fatalf("%d calls after the context ended, want 4", n)
		}
	})
}

func TestEveryNilWake(t *testing.T) {
	const interval = time.Second
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*interval+interval/2)
		defer cancel()
		var calls atomic.Int64
		tick.Every(ctx, interval, nil, func() { calls.Add(1) })
		if n := calls.Load(); n != 3 {
			t.Fatalf("%d calls in three and a half intervals, want 3", n)
		}
	})
}
