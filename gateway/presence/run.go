package presence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/tick"
)

// Run keeps this gateway alive in the cluster until ctx is done: it
// heartbeats the registry key, renews member leases, watches the registry
// and cleans up after dead gateways, and resynchronizes open rosters after
// NC reconnects. Then it stops cleanly: it deletes this gateway's member
// keys (every roster in the cluster sees them leave) and its registry key,
// and Join fails with ErrStopped from then on. It returns the clean stop's
// error, if any.
func (p *Presence) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer p.running.Store(false)
	if p.stopped.Load() {
		return ErrStopped
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.reg.Run(ctx) })
	wg.Go(func() { p.janitor.run(ctx) })
	wg.Go(func() { tick.Every(ctx, p.cfg.RenewInterval, p.renewNow, func() { p.renewRound(ctx) }) })
	wg.Go(func() { p.reconnectLoop(ctx) })
	wg.Wait()
	return p.cleanup()
}

// renewRound renews member leases and sweeps the open rosters: every
// RenewInterval, and at once when renewNow asks.
func (p *Presence) renewRound(ctx context.Context) {
	p.renewAll(ctx)
	p.sweepRosters(time.Now())
}

// renewAll rewrites every lease with a fresh TTL, as a compare-and-set on
// its last revision, so that a renewal never resurrects a key that a
// concurrent Leave purged. A key that changed otherwise (the janitor
// deleted it while this gateway seemed dead, or it expired during an
// outage) is written again while its connection lives.
func (p *Presence) renewAll(ctx context.Context) {
	leases := p.localLeases()
	if len(leases) == 0 {
		return
	}
	start := time.Now()
	msgs := make([]*nats.Msg, len(leases))
	revs := make([]uint64, len(leases))
	for i, l := range leases {
		revs[i] = l.revision()
		msgs[i] = kvttl.ExpectRev(kvttl.Put(memberSubjectPrefix+l.key, l.value, p.cfg.MemberTTL), revs[i])
	}
	var failed, rewritten int
	for i, res := range p.publishBatch(ctx, msgs) {
		l := leases[i]
		switch {
		case res.err == nil:
			l.mu.Lock()
			if l.rev == revs[i] {
				l.rev = res.seq
			}
			l.mu.Unlock()
		case kvttl.IsWrongRev(res.err):
			if p.rewrite(ctx, l) {
				rewritten++
			}
		case ctx.Err() != nil:
			return
		default:
			failed++
		}
	}
	if failed > 0 || rewritten > 0 {
		p.log.Warn("presence lease renewal incomplete", slog.Int("leases", len(leases)),
			slog.Int("failed", failed), slog.Int("rewritten", rewritten), slog.Duration("took", sinceStart(start)))
	}
}

// rewrite writes a lost lease's key again, unless its connection left
// meanwhile; it reports whether it wrote.
func (p *Presence) rewrite(ctx context.Context, l *lease) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ack, err := p.js.PublishMsg(ctx, kvttl.Put(memberSubjectPrefix+l.key, l.value, p.cfg.MemberTTL))
	if err != nil {
		p.log.Warn("rewrite presence member", slog.String("key", l.key), slog.Any("error", err))
		return false
	}
	l.rev = ack.Sequence
	return true
}

// cleanupRetryWait is the first pause before the clean stop tries again
// what failed; it doubles up to cleanupMaxRetryWait. A NATS node that just
// went away leaves its streams without a leader for a few seconds ("no
// response from stream"), well within CleanupTimeout.
const (
	cleanupRetryWait    = 250 * time.Millisecond
	cleanupMaxRetryWait = 2 * time.Second
)

// cleanup is the clean stop: it deletes every member key this gateway
// holds, then its registry key, so that others see the members leave at
// once and find nothing left for a janitor. What fails while connected is
// tried again until CleanupTimeout (the registry key only once every
// member key is gone, so that the janitor finds what is left); what
// still fails then expires on its own.
func (p *Presence) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	leases := p.takeLeases()
	pending := make([]*nats.Msg, len(leases))
	for i, l := range leases {
		l.mu.Lock() // wait for a Join or rewrite in flight
		pending[i] = kvttl.Purge(memberSubjectPrefix+l.key, p.cfg.MarkerTTL)
		l.mu.Unlock()
	}
	var membersErr, regErr error
	unregistered := false
	for wait := cleanupRetryWait; ; wait = min(2*wait, cleanupMaxRetryWait) {
		pending, membersErr = p.deleteMembers(ctx, pending)
		if len(pending) == 0 && !unregistered {
			regErr = p.reg.Unregister(ctx)
			unregistered = regErr == nil
		}
		// Only a stream without a leader is waited out, on a connected
		// client: a closed or lost connection (the process being killed,
		// NATS down) is not, so that a stop never waits for NATS.
		if unregistered || !p.nc.IsConnected() || !backoff.Sleep(ctx, backoff.Jitter(wait)) {
			break
		}
	}
	if unregistered {
		p.log.Debug("presence stopped cleanly", slog.Int("members", len(leases)))
		return nil
	}
	err := errors.Join(membersErr, regErr)
	p.log.Warn("presence clean stop incomplete; remaining keys expire on their own",
		slog.Int("members", len(leases)), slog.Int("failed", len(pending)), slog.Any("error", err))
	return fmt.Errorf("presence stop: %w", err)
}

// deleteMembers publishes the member deletions msgs and returns those
// that failed, with the first failure's error.
func (p *Presence) deleteMembers(ctx context.Context, msgs []*nats.Msg) (failed []*nats.Msg, err error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	for i, res := range p.publishBatch(ctx, msgs) {
		if res.err != nil {
			if err == nil {
				err = fmt.Errorf("delete members: %w", res.err)
			}
			failed = append(failed, msgs[i])
		}
	}
	return failed, err
}

// reconnectLoop resynchronizes every open roster when NC reconnects: the
// core subscriptions lost whatever was published meanwhile.
func (p *Presence) reconnectLoop(ctx context.Context) {
	status := p.nc.StatusChanged(nats.CONNECTED, nats.RECONNECTING, nats.DISCONNECTED)
	defer p.nc.RemoveStatusListener(status)
	down := false
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-status:
			switch {
			case st != nats.CONNECTED:
				down = true
			case down:
				down = false
				for _, r := range p.openRosters() {
					signal(r.resync)
				}
			}
		}
	}
}

// signal does a non-blocking send on a 1-buffered wake-up channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sinceStart rounds the time since start for logs.
func sinceStart(start time.Time) time.Duration { return time.Since(start).Round(time.Millisecond) }
