package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/backoff"
)

// Handler receives a roster's cluster-wide membership changes. Its methods
// are called one at a time per roster, on a goroutine of the roster's own
// that holds no lock, and must not block (queue the frames and return).
// They must not call the roster's Close.
type Handler interface {
	// MemberAdded reports a user's first connection to the channel
	// anywhere in the cluster. by is that connection, so the gateway can
	// skip telling the joining socket about itself.
	MemberAdded(userID string, info json.RawMessage, by ConnRef)
	// MemberRemoved reports that the user's last connection left.
	MemberRemoved(userID string)
}

// Roster follows one presence channel's members cluster-wide, for a
// gateway that has local subscribers on it. It is safe for concurrent
// use.
type Roster struct {
	p      *Presence
	prefix string // "<app>.<chanTok>"
	h      Handler
	sub    *nats.Subscription

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	done   chan struct{} // closed when loop returns
	wake   chan struct{} // the queue has changes
	resync chan struct{} // reload: the subscription may have missed updates

	mu      sync.Mutex
	st      *state
	loading bool    // a snapshot is being read: updates go to buf
	buf     []event // updates received while loading
	queue   []change
	closed  bool
	// admitted holds the joins admitted by Join, by connection key,
	// until the state counts them.
	admitted map[string]*admission
}

// Open starts following a presence channel: it subscribes to the
// channel's republished updates, reads a snapshot of its keys, merges the
// updates that arrived meanwhile and returns the roster, whose Members are
// then the channel's current members. Later changes go to h (nil for
// none); the initial members are not reported. A gateway opens one roster
// per channel with local subscribers and closes it when the last one
// leaves; opening a second returns ErrAlreadyOpen.
func (p *Presence) Open(ctx context.Context, appID, channel string, h Handler) (*Roster, error) {
	prefix, err := channelPrefix(appID, channel)
	if err != nil {
		return nil, err
	}
	r := &Roster{
		p: p, prefix: prefix, h: h,
		done: make(chan struct{}), wake: make(chan struct{}, 1), resync: make(chan struct{}, 1),
		st: newState(), loading: true,
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	p.mu.Lock()
	if p.rosters[prefix] != nil {
		p.mu.Unlock()
		r.cancel()
		return nil, fmt.Errorf("open %s: %w", prefix, ErrAlreadyOpen)
	}
	// Registered before loading, so that local Joins meanwhile are
	// buffered like remote updates.
	p.rosters[prefix] = r
	p.mu.Unlock()

	// The subscription comes first and shares NC with the snapshot
	// requests, so the server registers it before serving the snapshot:
	// every write is in the snapshot, in the buffer, or both.
	r.sub, err = p.nc.Subscribe(EventSubjectPrefix+"."+prefix+".>", r.onMsg)
	if err == nil {
		err = r.load(ctx, true)
	}
	if err != nil {
		if r.sub != nil {
			_ = r.sub.Unsubscribe()
		}
		r.cancel()
		p.unregister(r)
		return nil, fmt.Errorf("open %s: %w", prefix, err)
	}
	go r.loop()
	return r, nil
}

// Close stops following the channel. No Handler method runs after Close
// returns.
func (r *Roster) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	_ = r.sub.Unsubscribe()
	r.cancel()
	<-r.done
	r.p.unregister(r)
}

// Members returns the channel's users, each with the info of the
// connection that added it, sorted by user id.
func (r *Roster) Members() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.members()
}

// UserCount is the number of distinct users on the channel.
func (r *Roster) UserCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.st.users)
}

// Has reports whether userID has a connection on the channel.
func (r *Roster) Has(userID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.users[userID] != nil
}

// onMsg receives a republished update. It runs on the subscription's
// delivery goroutine, so it only parses and queues.
func (r *Roster) onMsg(m *nats.Msg) {
	ev, err := parseStored(m, r.prefix)
	if err != nil {
		r.p.log.Debug("ignoring presence update", slog.String("subject", m.Subject), slog.Any("error", err))
		return
	}
	r.apply(ev)
}

// apply applies one update, or buffers it while a snapshot loads.
func (r *Roster) apply(ev event) { r.applyEvent(ev, false) }

// applyJoin applies this gateway's own join write ev, ending its
// admission in the same step (see Join).
func (r *Roster) applyJoin(ev event) { r.applyEvent(ev, true) }

func (r *Roster) applyEvent(ev event, own bool) {
	r.mu.Lock()
	if own {
		r.settleLocked(ev)
	}
	if r.closed {
		r.mu.Unlock()
		return
	}
	if r.loading {
		r.buf = append(r.buf, ev)
		r.mu.Unlock()
		return
	}
	n := len(r.queue)
	r.queue = r.st.apply(ev, time.Now(), r.queue)
	grew := len(r.queue) > n
	r.mu.Unlock()
	if grew {
		signal(r.wake)
	}
}

// load reads a snapshot and merges the updates buffered meanwhile, each
// key keeping its newest sequence. On a resync (initial false) the
// difference from the previous state is reported to the Handler; if the
// snapshot fails the previous state stays, with the buffer applied.
func (r *Roster) load(ctx context.Context, initial bool) error {
	r.mu.Lock()
	r.loading, r.buf = true, nil
	r.mu.Unlock()
	fresh := newState()
	now := time.Now()
	err := r.p.scan(ctx, memberSubjectPrefix+r.prefix+".>", func(m *nats.Msg) {
		if ev, err := parseStored(m, r.prefix); err == nil {
			fresh.apply(ev, now, nil)
		}
	})
	r.mu.Lock()
	buf := r.buf
	r.loading, r.buf = false, nil
	if err != nil {
		for _, ev := range buf {
			r.queue = r.st.apply(ev, now, r.queue)
		}
	} else {
		for _, ev := range buf {
			fresh.apply(ev, now, nil)
		}
		if !initial {
			r.queue = fresh.diff(r.st, r.queue)
		}
		r.st = fresh
	}
	r.settleLandedLocked()
	pending := len(r.queue) > 0
	r.mu.Unlock()
	if pending {
		signal(r.wake)
	}
	return err
}

// sweep drops connections whose keys must have expired without the
// marker reaching this roster.
func (r *Roster) sweep(now time.Time, expiry time.Duration) {
	r.mu.Lock()
	n := len(r.queue)
	r.queue = r.st.sweep(now, expiry, r.queue)
	grew := len(r.queue) > n
	r.mu.Unlock()
	if grew {
		signal(r.wake)
	}
}

// loop delivers queued changes to the Handler and runs resyncs, until
// Close.
func (r *Roster) loop() {
	defer close(r.done)
	var retry <-chan time.Time
	delay := minBackoff
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
		case <-r.resync:
			retry = r.reload(&delay)
		case <-retry:
			retry = r.reload(&delay)
		}
		r.dispatch()
	}
}

// reload resyncs, and on failure returns when to try again.
func (r *Roster) reload(delay *time.Duration) <-chan time.Time {
	if err := r.load(r.ctx, false); err != nil {
		if r.ctx.Err() != nil {
			return nil
		}
		wait := backoff.Jitter(*delay)
		*delay = min(2**delay, maxBackoff)
		r.p.log.Warn("presence resync failed; retrying", slog.String("channel_key", r.prefix),
			slog.Duration("after", wait), slog.Any("error", err))
		return time.After(wait)
	}
	*delay = minBackoff
	return nil
}

func (r *Roster) dispatch() {
	for {
		r.mu.Lock()
		q := r.queue
		r.queue = nil
		r.mu.Unlock()
		if len(q) == 0 || r.h == nil {
			return
		}
		for _, c := range q {
			if r.ctx.Err() != nil {
				return
			}
			if c.added {
				r.h.MemberAdded(c.user, c.info, c.by)
			} else {
				r.h.MemberRemoved(c.user)
			}
		}
	}
}

// roster returns the open roster of a channel prefix, or nil.
func (p *Presence) roster(prefix string) *Roster {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rosters[prefix]
}

func (p *Presence) openRosters() []*Roster { return values(&p.mu, p.rosters) }

func (p *Presence) unregister(r *Roster) { dropIfSame(&p.mu, p.rosters, r.prefix, r) }

// sweepRosters sweeps every open roster. A key is rewritten at least every
// RenewInterval while its connection lives and expires MemberTTL after its
// last write; a further RenewInterval absorbs clock skew between the
// servers' time stamps and this host.
func (p *Presence) sweepRosters(now time.Time) {
	for _, r := range p.openRosters() {
		r.sweep(now, p.cfg.MemberTTL+p.cfg.RenewInterval)
	}
}
