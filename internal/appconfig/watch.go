package appconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/backoff"
)

var (
	errDisconnected  = errors.New("nats connection lost")
	errConnClosed    = errors.New("appconfig: nats connection closed")
	errWatcherClosed = errors.New("watcher closed")
	errSetupTimeout  = errors.New("watch setup timed out")
)

// Run loads the bucket, then applies updates until ctx is done, when it
// returns nil. When the watch fails or the connection drops, it waits
// (jittered, doubling backoff), watches again and reloads everything, so
// that deletes missed meanwhile are applied too; lookups keep answering
// from the last state in between. It returns an error only if the
// connection is closed for good or Run is already running.
//
// Stopping a watcher deletes its consumer with a JetStream API request, so
// when the server is unreachable Run can take up to nats.go's API timeout
// (5 s) to return after ctx is done.
func (c *Cache) Run(ctx context.Context) error {
	if c.cfg.JS == nil {
		return errors.New("appconfig: CacheConfig.JS is required")
	}
	if !c.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer c.running.Store(false)

	nc := c.cfg.JS.Conn()
	status := nc.StatusChanged(nats.CONNECTED, nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(status)

	delay := c.cfg.MinBackoff
	for {
		if err := waitConnected(ctx, nc, status); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		began := time.Now()
		loaded, err := c.watch(ctx, status)
		if ctx.Err() != nil {
			return nil
		}
		// A watch that loaded and lived a while was healthy: start the
		// backoff over, so that a reconnect is followed by a quick reload.
		if loaded && time.Since(began) >= c.cfg.MaxBackoff {
			delay = c.cfg.MinBackoff
		}
		wait := backoff.Jitter(delay)
		c.log.Warn("app config watch ended; watching again", slog.Any("error", err), slog.Duration("after", wait))
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
		delay = min(2*delay, c.cfg.MaxBackoff)
	}
}

// watch runs one watcher until it fails, the connection drops or ctx is
// done. loaded reports whether it got through the initial values.
func (c *Cache) watch(ctx context.Context, status <-chan nats.Status) (loaded bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel(nil)
		wg.Wait()
	}()
	// Drop the watcher as soon as the connection drops rather than let
	// its ordered consumer reset itself: a fresh watcher after reconnect
	// also reloads, and resetting consumers leak in reconnect storms.
	wg.Go(func() {
		for {
			select {
			case st := <-status:
				if st != nats.CONNECTED {
					cancel(fmt.Errorf("%w (%s)", errDisconnected, st))
					return
				}
			case <-actx.Done():
				return
			}
		}
	})

	w, err := c.startWatcher(actx, cancel)
	if err != nil {
		return false, err
	}
	defer c.stopWatcher(w)

	updates := w.Updates()
	initial := make(map[string]entry)
	for {
		select {
		case <-actx.Done():
			return loaded, context.Cause(actx)
		case kve, ok := <-updates:
			if !ok {
				return loaded, errWatcherClosed
			}
			if !loaded {
				if kve == nil { // end of the initial values
					c.replaceAll(initial)
					initial = nil
					loaded = true
					c.markReady()
					c.log.Debug("app configs loaded", slog.Int("apps", c.Len()))
					continue
				}
				if e, ok := c.decode(kve); ok {
					initial[kve.Key()] = e
				} else {
					delete(initial, kve.Key())
				}
				continue
			}
			if kve == nil {
				continue
			}
			batch, open := drain(updates, kve)
			c.applyBatch(batch)
			if !open {
				return loaded, errWatcherClosed
			}
		}
	}
}

// startWatcher opens the bucket and watches all of it, within
// SetupTimeout. The watcher keeps actx (its ordered consumer uses it), so
// the timeout cancels actx itself, and only if setup has not finished.
func (c *Cache) startWatcher(actx context.Context, cancel context.CancelCauseFunc) (jetstream.KeyWatcher, error) {
	timer := time.AfterFunc(c.cfg.SetupTimeout, func() { cancel(errSetupTimeout) })
	defer timer.Stop()
	kv, err := c.cfg.JS.KeyValue(actx, c.cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("open bucket: %w", causeOr(actx, err))
	}
	w, err := kv.WatchAll(actx)
	if err != nil {
		return nil, fmt.Errorf("watch bucket: %w", causeOr(actx, err))
	}
	return w, nil
}

// stopWatcher unsubscribes w and drains its channel until it closes: the
// watcher's callback blocks on a full channel, and would otherwise stay
// blocked forever. The drain is bounded in case the close never comes.
func (c *Cache) stopWatcher(w jetstream.KeyWatcher) {
	if err := w.Stop(); err != nil {
		c.log.Debug("stop app config watcher", slog.Any("error", err))
	}
	timer := time.NewTimer(c.cfg.SetupTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-w.Updates():
			if !ok {
				return
			}
		case <-timer.C:
			return
		}
	}
}

// drain returns first and whatever else is queued, up to maxBatch, and
// whether the channel is still open.
func drain(updates <-chan jetstream.KeyValueEntry, first jetstream.KeyValueEntry) ([]jetstream.KeyValueEntry, bool) {
	batch := []jetstream.KeyValueEntry{first}
	for len(batch) < maxBatch {
		select {
		case kve, ok := <-updates:
			if !ok {
				return batch, false
			}
			if kve != nil {
				batch = append(batch, kve)
			}
		default:
			return batch, true
		}
	}
	return batch, true
}

// waitConnected returns once nc is connected, errConnClosed if it never
// will be, or ctx's error.
func waitConnected(ctx context.Context, nc *nats.Conn, status <-chan nats.Status) error {
	for {
		// Events queued before now are stale; the current status decides.
		for drained := false; !drained; {
			select {
			case <-status:
			default:
				drained = true
			}
		}
		switch {
		case nc.IsConnected():
			return nil
		case nc.IsClosed():
			return errConnClosed
		}
		select {
		case <-status:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// causeOr prefers actx's cancellation cause (disconnect, setup timeout) to
// the generic error it produced.
func causeOr(actx context.Context, err error) error {
	if cause := context.Cause(actx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
