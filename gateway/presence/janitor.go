package presence

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/kvttl"
)

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

// clean deletes a dead gateway's members, if this gateway wins the lock
// (gateways.Registration.ClaimCleanup): a dead gateway's N members cost N
// deletes rather than N per surviving gateway. If the winner dies midway,
// the members' own TTLs remove the rest.
//
// Each delete is a compare-and-set on the revision read, so that a gateway
// that was only partitioned and has rewritten its keys keeps them.
func (j *janitor) clean(ctx context.Context, id string) {
	p := j.p
	if p.reg.Live(id) {
		return
	}
	won, err := p.reg.ClaimCleanup(ctx, id)
	if err == nil && !won {
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
		msgs = append(msgs, kvttl.ExpectRev(kvttl.Purge(memberSubjectPrefix+ev.key, p.cfg.MarkerTTL), ev.seq))
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
		if res.err != nil && !kvttl.IsWrongRev(res.err) {
			failed++
		}
	}
	p.log.Info("removed the presence members of a dead gateway", slog.String("dead_gateway", id),
		slog.Int("members", len(msgs)), slog.Int("failed", failed), slog.Duration("took", sinceStart(start)))
}
