package presence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/backoff"
)

// registryLoop watches the gateway registry (one watcher per gateway
// process) until ctx is done, watching again with a jittered backoff when
// the watch fails or the connection drops, and hands every gateway that
// disappears to the janitor.
func (p *Presence) registryLoop(ctx context.Context) {
	j := newJanitor(p)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { j.run(ctx) })

	nc := p.js.Conn()
	status := nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(status)
	delay := minBackoff
	for ctx.Err() == nil {
		began := time.Now()
		err := p.watchRegistry(ctx, status, j)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > maxBackoff {
			delay = minBackoff
		}
		p.log.Debug("gateway registry watch ended; watching again", slog.Any("error", err))
		if !backoff.Sleep(ctx, backoff.Jitter(delay)) {
			return
		}
		delay = min(2*delay, maxBackoff)
	}
}

// watchRegistry runs one watcher until it fails, the connection drops or
// ctx is done. A watcher is dropped on disconnect rather than left to
// reset its ordered consumer: a fresh one reloads everything, including
// the delete markers of gateways that died meanwhile (within MarkerTTL).
func (p *Presence) watchRegistry(ctx context.Context, status <-chan nats.Status, j *janitor) error {
	for drained := false; !drained; { // statuses before now are stale
		select {
		case <-status:
		default:
			drained = true
		}
	}
	if !p.js.Conn().IsConnected() {
		return errors.New("not connected")
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// "*" matches gateway keys only: janitor lock keys hold a '.'.
	w, err := p.gateways.Watch(wctx, "*")
	if err != nil {
		return fmt.Errorf("watch registry: %w", err)
	}
	defer stopWatcher(w)
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
					p.mu.Lock()
					p.live = initial
					p.mu.Unlock()
				}
				continue
			}
			p.registryEntry(e, j, loaded, initial)
		}
	}
}

// registryEntry applies one registry change: to initial while the watcher
// replays the bucket, to the live map afterwards.
func (p *Presence) registryEntry(e jetstream.KeyValueEntry, j *janitor, loaded bool, initial map[string]Gateway) {
	id := e.Key()
	live := initial
	p.mu.Lock()
	defer p.mu.Unlock()
	if loaded {
		live = p.live
	}
	if e.Operation() == jetstream.KeyValuePut {
		var g Gateway
		if err := json.Unmarshal(e.Value(), &g); err != nil || g.ID != id {
			p.log.Warn("malformed gateway registry entry", slog.String("key", id))
			return
		}
		live[id] = g
		return
	}
	delete(live, id)
	if id == p.cfg.GatewayID {
		// Taken for dead (a long pause or partition): register again.
		signal(p.reregister)
		return
	}
	j.add(id)
}

// stopWatcher stops w and drains its channel until it closes, so that the
// watcher's delivery callback never stays blocked on a full channel.
func stopWatcher(w jetstream.KeyWatcher) {
	_ = w.Stop()
	t := time.NewTimer(requestTimeout)
	defer t.Stop()
	for {
		select {
		case _, ok := <-w.Updates():
			if !ok {
				return
			}
		case <-t.C:
			return
		}
	}
}

// janitor deletes the members of gateways that died without cleaning up.
type janitor struct {
	p    *Presence
	wake chan struct{}
	mu   sync.Mutex
	dead []string // queued gateway ids; guarded by mu
}

func newJanitor(p *Presence) *janitor {
	return &janitor{p: p, wake: make(chan struct{}, 1)}
}

func (j *janitor) add(id string) {
	j.mu.Lock()
	if !slices.Contains(j.dead, id) {
		j.dead = append(j.dead, id)
	}
	j.mu.Unlock()
	signal(j.wake)
}

func (j *janitor) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-j.wake:
		}
		j.mu.Lock()
		dead := j.dead
		j.dead = nil
		j.mu.Unlock()
		for _, id := range dead {
			if ctx.Err() != nil {
				return
			}
			j.clean(ctx, id)
		}
	}
}

// clean deletes a dead gateway's members, if this gateway wins the lock.
//
// Every gateway sees the registry key expire at about the same time. One
// of them wins a lock key (Create fails for the others), so a dead
// gateway's N members cost N deletes rather than N per surviving gateway.
// The lock expires after GatewayTTL and is never deleted, so stragglers
// that see the death a little later do not clean again. If the winner dies
// midway, the members' own TTLs remove the rest.
//
// Each delete is a compare-and-set on the revision read, so that a gateway
// that was only partitioned and has rewritten its keys keeps them.
func (j *janitor) clean(ctx context.Context, id string) {
	p := j.p
	p.mu.Lock()
	_, back := p.live[id]
	p.mu.Unlock()
	if back {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, requestTimeout)
	_, err := p.gateways.Create(lctx, janitorLockPrefix+id, []byte(p.cfg.GatewayID), jetstream.KeyTTL(roundTTL(p.cfg.GatewayTTL)))
	cancel()
	if errors.Is(err, jetstream.ErrKeyExists) {
		return
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("janitor lock failed; members of the dead gateway expire on their own",
			slog.String("dead_gateway", id), slog.Any("error", err))
		return
	}
	start := time.Now()
	var msgs []*nats.Msg
	err = p.scan(ctx, gatewayMembersFilter(id), func(m *nats.Msg) {
		ev, err := parseStored(m, "")
		if err != nil || ev.del {
			return
		}
		msgs = append(msgs, expectRev(purgeMsg(memberSubjectPrefix+ev.key, p.cfg.MarkerTTL), ev.seq))
	})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("janitor scan failed; members of the dead gateway expire on their own",
			slog.String("dead_gateway", id), slog.Any("error", err))
		return
	}
	failed := 0
	for _, res := range p.publishBatch(ctx, msgs) {
		if res.err != nil && !isWrongRev(res.err) {
			failed++
		}
	}
	p.log.Info("removed the presence members of a dead gateway", slog.String("dead_gateway", id),
		slog.Int("members", len(msgs)), slog.Int("failed", failed), slog.Duration("took", sinceStart(start)))
}
