package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/gateway/protocol"
)

// DefaultReconnectPause is the pause between failed attempts to connect
// again (jittered ±50%); the first attempt after a connection ends is
// immediate, as pusher-js's after a close.
const DefaultReconnectPause = 100 * time.Millisecond

// Config describes a fleet of subscribers.
type Config struct {
	// Key is the app key.
	Key string
	// URL returns the base URL (http://host:port) subscriber i dials on
	// its attempt-th connection (0 first): the balancer, or gateways
	// directly.
	URL func(i, attempt int) string
	// Channel returns subscriber i's channel (a public channel).
	Channel func(i int) string
	// Event is the event name whose serials are checked; others are
	// ignored.
	Event string
	// ReconnectPause is the pause between failed attempts
	// (DefaultReconnectPause when 0).
	ReconnectPause time.Duration
}

// Fleet is subscribers that each stay subscribed to one channel: after
// a connection ends they connect again and resume after the last serial
// they received, until Stop.
type Fleet struct {
	cfg  Config
	subs []*subscriber

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	connected atomic.Int64

	mu         sync.Mutex
	reconnects Durations
	// handshakes is, of each reconnection, the time to the successful
	// dial's pusher:connection_established.
	handshakes Durations
	closes     map[uint16]int
	dialErrors map[string]int
}

// subscriber is one member of the fleet.
type subscriber struct {
	i       int
	channel string
	recv    received

	mu   sync.Mutex
	conn *Conn
}

// New returns a fleet that is not connected yet.
func New(cfg Config) *Fleet {
	if cfg.ReconnectPause <= 0 {
		cfg.ReconnectPause = DefaultReconnectPause
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Fleet{cfg: cfg, ctx: ctx, cancel: cancel, closes: map[uint16]int{}, dialErrors: map[string]int{}}
}

// Start connects and subscribes n more subscribers, at most concurrency
// dialling at once, and returns once each is subscribed; the first
// failure stops the fleet and is returned.
func (f *Fleet) Start(ctx context.Context, n, concurrency int) error {
	sem := make(chan struct{}, max(concurrency, 1))
	firsts := make(chan error, n)
	base := len(f.subs)
	for k := range n {
		s := &subscriber{i: base + k, channel: f.cfg.Channel(base + k)}
		f.subs = append(f.subs, s)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			sem <- struct{}{}
			c, err := f.connect(ctx, s, 0, false, time.Time{})
			<-sem
			firsts <- err
			if err != nil {
				return
			}
			f.run(s, c)
		}()
	}
	var errs []error
	for range n {
		if err := <-firsts; err != nil && len(errs) < maxReported {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		f.Stop()
		return fmt.Errorf("fleet: start: %w", errors.Join(errs...))
	}
	return nil
}

// connect dials and subscribes s, resuming when resume is set; for a
// reconnection (ended not zero) it records the time to the handshake.
func (f *Fleet) connect(ctx context.Context, s *subscriber, attempt int, resume bool, ended time.Time) (*Conn, error) {
	c, err := Dial(ctx, f.cfg.URL(s.i, attempt), f.cfg.Key)
	if err != nil {
		return nil, err
	}
	if !ended.IsZero() {
		f.mu.Lock()
		f.handshakes = append(f.handshakes, time.Since(ended))
		f.mu.Unlock()
	}
	sub := Subscription{Channel: s.channel, Resume: resume, From: s.recv.last()}
	if err := c.Subscribe(sub, nil); err != nil {
		_ = c.Close()
		return nil, err
	}
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	f.connected.Add(1)
	if f.ctx.Err() != nil {
		// Stop ran meanwhile and could not see this connection.
		_ = c.Close()
	}
	return c, nil
}

// run reads s's connection, then reconnects and resumes, until Stop.
func (f *Fleet) run(s *subscriber, c *Conn) {
	for attempt := 1; ; attempt++ {
		f.read(s, c)
		ended := time.Now()
		if f.ctx.Err() != nil {
			return
		}
		var err error
		for c, err = f.connect(f.ctx, s, attempt, true, ended); err != nil; c, err = f.connect(f.ctx, s, attempt, true, ended) {
			if f.ctx.Err() != nil {
				return
			}
			f.mu.Lock()
			f.dialErrors[errorKind(err)]++
			f.mu.Unlock()
			pause := f.cfg.ReconnectPause/2 + rand.N(f.cfg.ReconnectPause)
			select {
			case <-f.ctx.Done():
				return
			case <-time.After(pause):
			}
			attempt++
		}
		f.mu.Lock()
		f.reconnects = append(f.reconnects, time.Since(ended))
		f.mu.Unlock()
	}
}

// read records s's deliveries until its connection ends.
func (f *Fleet) read(s *subscriber, c *Conn) {
	defer func() {
		f.connected.Add(-1)
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
		_ = c.Close()
	}()
	for {
		e, err := c.Next()
		if err != nil {
			var cl Closed
			code := uint16(0)
			if errors.As(err, &cl) {
				code = cl.Code
			}
			f.mu.Lock()
			f.closes[code]++
			f.mu.Unlock()
			return
		}
		switch {
		case e.Event == f.cfg.Event && e.Channel == s.channel:
			s.recv.add(e.Serial)
		case e.Event == protocol.EventResumeResult:
			var r struct {
				Recovered bool `json:"recovered"`
			}
			if json.Unmarshal([]byte(e.Data), &r) == nil && !r.Recovered {
				s.recv.mu.Lock()
				s.recv.notRecovered++
				s.recv.mu.Unlock()
			}
		}
	}
}

// Connected is how many subscribers are connected and subscribed now.
func (f *Fleet) Connected() int { return int(f.connected.Load()) }

// Size is how many subscribers the fleet has.
func (f *Fleet) Size() int { return len(f.subs) }

// Drop closes every subscriber's connection at once, client side, as if
// the network went; each connects again at once. It returns how many
// connections it closed.
func (f *Fleet) Drop() int {
	n := 0
	for _, s := range f.subs {
		s.mu.Lock()
		if s.conn != nil {
			_ = s.conn.Close()
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// Stop disconnects every subscriber and waits for their goroutines.
func (f *Fleet) Stop() {
	f.cancel()
	f.Drop()
	f.wg.Wait()
}

// Reconnects is the time each reconnection took, from the end of a
// connection to the next successful subscription.
func (f *Fleet) Reconnects() Durations {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(Durations(nil), f.reconnects...)
}

// Handshakes is, of each reconnection, the time from the end of the
// connection to pusher:connection_established on the new one (the rest
// of Reconnects is the subscription's answer).
func (f *Fleet) Handshakes() Durations {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(Durations(nil), f.handshakes...)
}

// Closes counts the connections that ended, by the close code the
// server sent (0: none, the connection broke or was dropped).
func (f *Fleet) Closes() map[uint16]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[uint16]int, len(f.closes))
	for k, v := range f.closes {
		out[k] = v
	}
	return out
}

// DialErrors counts failed reconnection attempts by kind.
func (f *Fleet) DialErrors() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.dialErrors))
	for k, v := range f.dialErrors {
		out[k] = v
	}
	return out
}

// Check compares every subscriber's deliveries with acks.
func (f *Fleet) Check(acks *Acks) Report {
	r := Report{Subscribers: len(f.subs)}
	sorted := map[string][]uint64{}
	for _, s := range f.subs {
		acked, ok := sorted[s.channel]
		if !ok {
			acked = acks.sorted(s.channel)
			sorted[s.channel] = acked
		}
		m, first := s.recv.missing(acked)
		s.recv.mu.Lock()
		r.Expected += len(acked)
		r.Delivered += len(s.recv.got)
		r.Duplicates += s.recv.disorder
		r.NotRecovered += s.recv.notRecovered
		s.recv.mu.Unlock()
		r.Missing += m
		if m > 0 && len(r.Problems) < maxReported {
			r.Problems = append(r.Problems, fmt.Sprintf("subscriber %d on %s: %d missing, first %v", s.i, s.channel, m, first))
		}
	}
	return r
}

// errorKind shortens a dial error to its kind, for counting.
func errorKind(err error) string {
	msg := err.Error()
	const maxKind = 80
	if len(msg) > maxKind {
		msg = msg[:maxKind]
	}
	return msg
}
