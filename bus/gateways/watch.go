package gateways

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/tick"
)

// Run keeps the key alive and watches the registry until ctx is done. It
// leaves the key in place: Unregister removes it, once the caller has
// removed what the gateway owns.
func (r *Registration) Run(ctx context.Context) {
	var wg sync.WaitGroup
	// The key is renewed every HeartbeatInterval, and at once when the
	// watch saw it go.
	wg.Go(func() { tick.Every(ctx, r.cfg.HeartbeatInterval, r.reregister, func() { r.Heartbeat(ctx) }) })
	wg.Go(func() { r.watchLoop(ctx) })
	wg.Wait()
}

// watchLoop watches the registry (one watcher per gateway process) until
// ctx is done, watching again with a jittered backoff when the watch
// fails or the connection drops.
func (r *Registration) watchLoop(ctx context.Context) {
	nc := r.cfg.JS.Conn()
	status := nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(status)
	delay := minBackoff
	for ctx.Err() == nil {
		began := time.Now()
		err := r.watch(ctx, status)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > maxBackoff {
			delay = minBackoff
		}
		r.log.Debug("gateway registry watch ended; watching again", slog.Any("error", err))
		if !backoff.Sleep(ctx, backoff.Jitter(delay)) {
			return
		}
		delay = min(2*delay, maxBackoff)
	}
}

// watch runs one watcher until it fails, the connection drops or ctx is
// done. A watcher is dropped on disconnect rather than left to reset its
// ordered consumer: a fresh one reloads everything, including the delete
// markers of gateways that died meanwhile (within the marker TTL).
func (r *Registration) watch(ctx context.Context, status <-chan nats.Status) error {
	for drained := false; !drained; { // statuses before now are stale
		select {
		case <-status:
		default:
			drained = true
		}
	}
	if !r.cfg.JS.Conn().IsConnected() {
		return errors.New("not connected")
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// "*" matches gateway keys only: cleanup lock keys hold a '.'.
	w, err := r.kv.Watch(wctx, "*")
	if err != nil {
		return fmt.Errorf("watch registry: %w", err)
	}
	defer func() { _ = kvwatch.Stop(w, RequestTimeout) }()
	initial := make(map[string]Gateway)
	loaded := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case st := <-status:
			return fmt.Errorf("connection %s", st)
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("watcher closed")
			}
			if e == nil {
				if !loaded {
					loaded = true
					r.mu.Lock()
					r.live = initial
					r.mu.Unlock()
				}
				continue
			}
			r.entry(e, loaded, initial)
		}
	}
}

// entry applies one registry change: to initial while the watcher replays
// the bucket, to the live map afterwards.
func (r *Registration) entry(e jetstream.KeyValueEntry, loaded bool, initial map[string]Gateway) {
	id := e.Key()
	live := initial
	r.mu.Lock()
	if loaded {
		live = r.live
	}
	if e.Operation() == jetstream.KeyValuePut {
		defer r.mu.Unlock()
		g, err := decode(id, e.Value())
		if err != nil {
			r.log.Warn("malformed gateway registry entry", slog.String("key", id))
			return
		}
		live[id] = g
		return
	}
	delete(live, id)
	r.mu.Unlock()
	if id == r.cfg.ID {
		// Taken for dead (a long pause or partition): register again.
		select {
		case r.reregister <- struct{}{}:
		default:
		}
		return
	}
	r.cfg.OnGone(id)
}
