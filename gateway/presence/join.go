package presence

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/bus/kvttl"
)

// lease is one local connection's member key, which this gateway keeps
// alive until the connection leaves.
type lease struct {
	key   string // full member key
	value []byte

	// mu serializes this key's unconditional writes (Join, the rewrite
	// of a lost key, Leave), so that a rewrite never lands after the
	// purge of a connection that left. Renewals are compare-and-set on
	// rev and need no lock while in flight.
	mu   sync.Mutex
	rev  uint64 // guarded by mu
	gone atomic.Bool
}

func (l *lease) revision() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rev
}

// Join records socketID of this gateway as a connection of m.UserID on a
// presence channel. It returns once the key is stored; an open Roster of
// the channel on this gateway already includes the connection then, and
// calls MemberAdded (with this connection as by) if the user is new to
// the channel. Applying an arrival ahead of updates stored before it but
// not received yet can only hide a departure-and-return of the same user,
// never invent an event. Joining twice with the same socket replaces the
// first. Invalid ids or members are channels.ErrBadRequest errors,
// oversized info channels.CodeTooLarge.
func (p *Presence) Join(ctx context.Context, appID, channel, socketID string, m Member) error {
	if p.stopped.Load() {
		return ErrStopped
	}
	key, prefix, err := memberKey(appID, channel, p.cfg.GatewayID, socketID)
	if err != nil {
		return err
	}
	return p.join(ctx, key, prefix, m, nil)
}

// join writes member key key of channel prefix; with a cap it first
// admits the member on the cap's roster, and settles or drops that
// admission once the write is applied or has failed.
func (p *Presence) join(ctx context.Context, key, prefix string, m Member, c *userCap) (err error) {
	if err := ValidateMember(m, p.cfg.MaxUserInfoBytes); err != nil {
		return err
	}
	m.UserInfo = normInfo(m.UserInfo)
	value, err := encodeMember(m)
	if err != nil {
		return err
	}
	suffix := strings.TrimPrefix(key, prefix+".")
	var r *Roster
	if c != nil {
		r = c.r
		if err := r.admit(suffix, m.UserID, c.limit); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				r.unadmit(suffix)
			}
		}()
	}
	l := &lease{key: key, value: value}
	l.mu.Lock()
	defer l.mu.Unlock()
	p.mu.Lock()
	if p.stopped.Load() { // checked again under mu: cleanup takes every lease under mu
		p.mu.Unlock()
		return ErrStopped
	}
	if old := p.leases[key]; old != nil {
		old.gone.Store(true)
	}
	p.leases[key] = l
	p.mu.Unlock()

	ack, err := p.js.PublishMsg(ctx, kvttl.Put(memberSubjectPrefix+key, value, p.cfg.MemberTTL))
	if err != nil {
		l.gone.Store(true)
		p.dropLease(l)
		return fmt.Errorf("join %s: %w", key, err)
	}
	l.rev = ack.Sequence
	if r == nil {
		r = p.roster(prefix)
	}
	if r != nil {
		r.applyJoin(event{key: suffix, seq: ack.Sequence, at: time.Now(), member: m})
	}
	return nil
}

// Leave removes socketID's connection from a presence channel. Rosters,
// this gateway's included, see it leave when the delete comes back
// through NATS (milliseconds later), in the cluster-wide order of updates:
// applying it at once could report a user's departure before the arrival
// of its connection on another gateway, stored earlier but not received
// yet. Leaving a channel the socket never joined is not an error. If the
// delete fails the key still expires within Config.MemberTTL, since
// nobody renews it any more.
func (p *Presence) Leave(ctx context.Context, appID, channel, socketID string) error {
	key, _, err := memberKey(appID, channel, p.cfg.GatewayID, socketID)
	if err != nil {
		return err
	}
	p.mu.Lock()
	l := p.leases[key]
	delete(p.leases, key)
	p.mu.Unlock()
	if l != nil {
		l.gone.Store(true)
		l.mu.Lock() // let a Join or rewrite in flight land first
		defer l.mu.Unlock()
	}
	if _, err := p.js.PublishMsg(ctx, kvttl.Purge(memberSubjectPrefix+key, p.cfg.MarkerTTL)); err != nil {
		return fmt.Errorf("leave %s: %w", key, err)
	}
	return nil
}

// dropLease forgets l if it is still the lease of its key.
func (p *Presence) dropLease(l *lease) { dropIfSame(&p.mu, p.leases, l.key, l) }

// localLeases returns the current leases.
func (p *Presence) localLeases() []*lease { return values(&p.mu, p.leases) }

// dropIfSame deletes m[k], under mu, if it still is v: a newer value
// under the same key stays.
func dropIfSame[K, V comparable](mu *sync.Mutex, m map[K]V, k K, v V) {
	mu.Lock()
	defer mu.Unlock()
	if m[k] == v {
		delete(m, k)
	}
}

// values returns m's values, read under mu.
func values[K comparable, V any](mu *sync.Mutex, m map[K]V) []V {
	mu.Lock()
	defer mu.Unlock()
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// takeLeases removes and returns every lease, for the clean stop.
func (p *Presence) takeLeases() []*lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped.Store(true)
	out := make([]*lease, 0, len(p.leases))
	for k, l := range p.leases {
		l.gone.Store(true)
		out = append(out, l)
		delete(p.leases, k)
	}
	return out
}
