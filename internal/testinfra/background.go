package testinfra

import (
	"context"
	"sync"
	"testing"
	"time"
)

// StopTimeout bounds how long Background's stop waits for run to return.
// Generous: stopping a NATS watcher while its server is away waits for
// an API timeout.
const StopTimeout = 15 * time.Second

// Background runs run on a goroutine and returns a function that cancels
// its context and waits for it to return, failing the test if it returned
// an error or did not return within StopTimeout. stop is also called at
// cleanup; tests that shut a server down before cleanup call it first.
func Background(tb testing.TB, run func(ctx context.Context) error) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("run: %v", err)
				}
			case <-time.After(StopTimeout):
				tb.Error("run did not return after cancel")
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}
