package gateway

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
)

// hubShards spreads the channel table over several locks so that
// subscribes on different channels do not contend.
const hubShards = 64

// chanKey names a channel within an app.
type chanKey struct {
	app  string
	name string
}

// channelState is a channel with local subscribers.
type channelState struct {
	key chanKey
	ch  channels.Channel
	// ready is closed once the first subscriber set the channel up;
	// setupErr is what went wrong, written before ready is closed.
	ready    chan struct{}
	setupErr error

	// mu guards subs and roster. Fan-out holds it shared while it
	// enqueues, which never blocks.
	mu     sync.RWMutex
	subs   map[*conn]*subscription
	roster *presence.Roster
	// deliveries is the app's deliveries series with app labels; nil
	// counts in the global one.
	deliveries prometheus.Counter
	// queueUntil is until when (Unix ns) fan-outs only queue
	// (fanoutBehind).
	queueUntil atomic.Int64
	// lastFanout is when (Unix ns) the channel's previous fan-out
	// started (fanoutBehind).
	lastFanout atomic.Int64
}

// hub is the table of channels that have local subscribers.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard
	// deliveries, when set (app labels), gives a new channel its app's
	// deliveries series once, so that fan-out looks nothing up.
	deliveries func(appID string) prometheus.Counter
}

type hubShard struct {
	mu sync.Mutex
	m  map[chanKey]*channelState
}

func newHub() *hub {
	h := &hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].m = map[chanKey]*channelState{}
	}
	return h
}

func (h *hub) shard(k chanKey) *hubShard {
	var mh maphash.Hash
	mh.SetSeed(h.seed)
	mh.WriteString(k.app)
	mh.WriteByte(0)
	mh.WriteString(k.name)
	return &h.shards[mh.Sum64()%hubShards]
}

// get returns the channel's state, or nil when it has no local subscriber.
func (h *hub) get(k chanKey) *channelState {
	s := h.shard(k)
	s.mu.Lock()
	cs := s.m[k]
	s.mu.Unlock()
	return cs
}

// join adds c to the channel, creating the state if needed. first reports
// whether the channel had no local subscriber before (the caller then
// subscribes to its NATS subject).
func (h *hub) join(k chanKey, ch channels.Channel, c *conn, sub *subscription) (cs *channelState, first bool) {
	s := h.shard(k)
	s.mu.Lock()
	cs = s.m[k]
	if cs == nil {
		cs = &channelState{key: k, ch: ch, subs: map[*conn]*subscription{}, ready: make(chan struct{})}
		if h.deliveries != nil {
			cs.deliveries = h.deliveries(k.app)
		}
		s.m[k] = cs
		first = true
	}
	cs.mu.Lock()
	cs.subs[c] = sub
	cs.mu.Unlock()
	s.mu.Unlock()
	return cs, first
}

// leave removes c from the channel. last reports whether it was the last
// local subscriber: the state is gone and the caller unsubscribes from
// NATS and closes the roster it returns.
func (h *hub) leave(k chanKey, c *conn) (roster *presence.Roster, last bool) {
	s := h.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.m[k]
	if cs == nil {
		return nil, false
	}
	cs.mu.Lock()
	delete(cs.subs, c)
	empty := len(cs.subs) == 0
	if empty {
		roster = cs.roster
		cs.roster = nil
	}
	cs.mu.Unlock()
	if !empty {
		return nil, false
	}
	delete(s.m, k)
	return roster, true
}

// count returns the number of channels with local subscribers.
func (h *hub) count() int {
	n := 0
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
