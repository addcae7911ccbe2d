//go:build linux && !herald_portable_ws

package ws

import (
	"sync/atomic"
	"time"
)

// Deadlines without a timer per connection: a connection with a frame in
// progress, or a lingering socket, sits in a connSet, and one sweeper
// goroutine per Poller looks through those sets a few times per timeout.
// Idle connections between frames are in neither set and cost the sweeper
// nothing.

// connSet is a set of connections split over locks.
type connSet struct {
	shards [connShards]connShard
	n      atomic.Int64
}

func (s *connSet) init() {
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]*Conn)
	}
}

func (s *connSet) len() int { return int(s.n.Load()) }

// add inserts c unless the set holds limit connections already (limit <= 0:
// no limit); it reports whether c is in the set.
func (s *connSet) add(c *Conn, limit int) bool {
	if n := s.n.Add(1); limit > 0 && n > int64(limit) {
		s.n.Add(-1)
		return false
	}
	sh := &s.shards[c.id%connShards]
	sh.mu.Lock()
	if _, dup := sh.m[c.id]; dup {
		s.n.Add(-1)
	}
	sh.m[c.id] = c
	sh.mu.Unlock()
	return true
}

func (s *connSet) remove(c *Conn) {
	sh := &s.shards[c.id%connShards]
	sh.mu.Lock()
	if _, ok := sh.m[c.id]; ok {
		delete(sh.m, c.id)
		s.n.Add(-1)
	}
	sh.mu.Unlock()
}

// appendExpired appends the connections of s for which expired is true;
// expired runs under a shard lock and must not block.
func (s *connSet) appendExpired(dst []*Conn, expired func(*Conn) bool) []*Conn {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, c := range sh.m {
			if expired(c) {
				dst = append(dst, c)
			}
		}
		sh.mu.Unlock()
	}
	return dst
}

// sweepInterval is how often the sweeper runs: a fraction of the shorter
// of the frame read timeout and the close linger; zero when neither is
// enabled.
func (p *Poller) sweepInterval() time.Duration {
	var d time.Duration
	for _, t := range []time.Duration{p.cfg.FrameReadTimeout, p.cfg.CloseLinger} {
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d / sweepsPerTimeout
}

// sweep enforces frame read deadlines and ends lingers until stop closes.
func (p *Poller) sweep(stop <-chan struct{}) {
	interval := p.sweepInterval()
	if interval <= 0 {
		<-stop
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var batch []*Conn
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		if timeout := p.cfg.FrameReadTimeout; timeout > 0 {
			batch = p.partial.appendExpired(batch[:0], func(c *Conn) bool {
				since := c.partialSince.Load()
				return since != 0 && time.Duration(now-since) >= timeout
			})
			for _, c := range batch {
				c.expireFrame()
			}
		}
		batch = p.lingering.appendExpired(batch[:0], func(c *Conn) bool {
			return now >= c.lingerUntil.Load()
		})
		for _, c := range batch {
			// A worker draining it checks the deadline itself.
			if c.state.CompareAndSwap(stLinger, stClosed) {
				c.closeSocket()
			}
		}
		clear(batch)
	}
}

// trackPartial starts or stops c's frame read deadline after a worker's
// turn: the deadline runs from when a frame was first seen incomplete
// until the parser is between frames again, and restarts when a frame
// completed and the next one is incomplete. The caller owns c.
func (c *Conn) trackPartial() {
	if c.p.cfg.FrameReadTimeout <= 0 {
		return
	}
	if !c.parser.inProgress() {
		if c.partialSince.Load() != 0 {
			c.partialSince.Store(0)
			c.p.partial.remove(c)
		}
		return
	}
	switch {
	case c.partialSince.Load() == 0:
		c.units = c.parser.units
		c.partialSince.Store(time.Now().UnixNano())
		c.p.partial.add(c, 0)
	case c.units != c.parser.units:
		c.units = c.parser.units
		c.partialSince.Store(time.Now().UnixNano())
	}
}

// frameTimeoutClose is the close request of every late frame.
var frameTimeoutClose = closeRequest{code: errFrameTimeout.Code, reason: errFrameTimeout.Reason, err: errFrameTimeout}

// expireFrame closes a connection whose frame is late with
// ClosePolicyViolation. It never writes in the sweeper's goroutine: an
// idle connection is handed to a worker, a busy one is ended by its worker
// after its turn.
func (c *Conn) expireFrame() {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.p.frameTimeouts.Add(1)
	_ = c.setWriteDeadline(time.Now().Add(c.p.cfg.ControlWriteTimeout))
	c.closeReq = &frameTimeoutClose
	for {
		switch c.state.Load() {
		case stIdle:
			if c.state.CompareAndSwap(stIdle, stBusy|stCloseReq) {
				// The worker's turn sees the request and ends it.
				c.p.jobs <- c
				return
			}
		case stBusy:
			if c.state.CompareAndSwap(stBusy, stBusy|stCloseReq) {
				return
			}
		default:
			return
		}
	}
}
