package kvwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	errDisconnected  = errors.New("nats connection lost")
	errWatcherClosed = errors.New("watcher closed")
	errSetupTimeout  = errors.New("watch setup timed out")
)

// watch runs one watcher until it fails, the connection drops or ctx is
// done. loaded reports whether it got through the initial values.
func (w *Watcher) watch(ctx context.Context, status <-chan nats.Status) (loaded bool, err error) {
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

	kw, err := w.startWatcher(actx, cancel)
	if err != nil {
		return false, err
	}
	defer w.stopWatcher(kw)

	updates := kw.Updates()
	var initial []jetstream.KeyValueEntry
	for {
		select {
		case <-actx.Done():
			return loaded, context.Cause(actx)
		case kve, ok := <-updates:
			if !ok {
				return loaded, errWatcherClosed
			}
			if !loaded {
				if kve != nil {
					initial = append(initial, kve)
					continue
				}
				// The nil entry ends the initial values.
				entries := live(initial)
				initial = nil
				w.cfg.Load(entries)
				loaded = true
				w.markReady()
				w.log.Debug("kv bucket loaded", slog.Int("entries", len(entries)))
				continue
			}
			if kve == nil {
				continue
			}
			batch, open := drain(updates, kve)
			w.cfg.Apply(batch)
			if !open {
				return loaded, errWatcherClosed
			}
		}
	}
}

// live keeps the latest entry of every key and drops the keys whose
// latest entry is a delete or purge, preserving watch order.
func live(entries []jetstream.KeyValueEntry) []jetstream.KeyValueEntry {
	seen := make(map[string]bool, len(entries))
	out := make([]jetstream.KeyValueEntry, 0, len(entries))
	for _, kve := range slices.Backward(entries) {
		if seen[kve.Key()] {
			continue
		}
		seen[kve.Key()] = true
		if kve.Operation() == jetstream.KeyValuePut {
			out = append(out, kve)
		}
	}
	slices.Reverse(out)
	return out
}

// startWatcher opens the bucket and watches all of it, within
// SetupTimeout. The watcher keeps actx (its ordered consumer uses it), so
// the timeout cancels actx itself, and only if setup has not finished.
func (w *Watcher) startWatcher(actx context.Context, cancel context.CancelCauseFunc) (jetstream.KeyWatcher, error) {
	timer := time.AfterFunc(w.cfg.SetupTimeout, func() { cancel(errSetupTimeout) })
	defer timer.Stop()
	kv, err := w.cfg.JS.KeyValue(actx, w.cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("open bucket: %w", causeOr(actx, err))
	}
	kw, err := kv.WatchAll(actx)
	if err != nil {
		return nil, fmt.Errorf("watch bucket: %w", causeOr(actx, err))
	}
	return kw, nil
}

// stopWatcher stops kw (see Stop), within SetupTimeout.
func (w *Watcher) stopWatcher(kw jetstream.KeyWatcher) {
	if err := Stop(kw, w.cfg.SetupTimeout); err != nil {
		w.log.Debug("stop kv watcher", slog.Any("error", err))
	}
}

// Stop unsubscribes kw and drains its channel until it closes: the
// watcher's callback blocks on a full channel, and would otherwise stay
// blocked forever. The drain gives up after timeout, in case the close
// never comes. It returns the error of unsubscribing.
func Stop(kw jetstream.KeyWatcher, timeout time.Duration) error {
	err := kw.Stop()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-kw.Updates():
			if !ok {
				return err
			}
		case <-timer.C:
			return err
		}
	}
}

// drain returns first and whatever else is queued, up to MaxBatch, and
// whether the channel is still open.
func drain(updates <-chan jetstream.KeyValueEntry, first jetstream.KeyValueEntry) ([]jetstream.KeyValueEntry, bool) {
	batch := []jetstream.KeyValueEntry{first}
	for len(batch) < MaxBatch {
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

// causeOr prefers actx's cancellation cause (disconnect, setup timeout) to
// the generic error it produced.
func causeOr(actx context.Context, err error) error {
	if cause := context.Cause(actx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
