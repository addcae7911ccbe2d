package topology

import (
	"fmt"
	"slices"
	"sync"
)

// maxReported caps how many missing serials one problem lists.
const maxReported = 10

// Serials checks deliveries against acknowledged publishes: every
// subscriber must receive every serial acknowledged on its channels
// (after the point it subscribed from), each once and in increasing
// order. A serial is a position in the one message stream, so a
// channel's serials are increasing but not consecutive: what a
// subscriber must have is the set the publishers were answered with.
// It is safe for concurrent use.
type Serials struct {
	mu    sync.Mutex
	acked map[string]map[uint64]bool
	subs  map[string]*subscriber
}

type subscriber struct {
	// after holds, per channel, the serial the subscriber started after.
	after map[string]uint64
	// last and got hold, per channel, the last serial and every serial
	// received.
	last     map[string]uint64
	got      map[string]map[uint64]bool
	problems []string
}

// NewSerials returns an empty checker.
func NewSerials() *Serials {
	return &Serials{acked: map[string]map[uint64]bool{}, subs: map[string]*subscriber{}}
}

// Acked records that a publish on channel was acknowledged with serial.
func (s *Serials) Acked(channel string, serial uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acked[channel] == nil {
		s.acked[channel] = map[uint64]bool{}
	}
	s.acked[channel][serial] = true
}

// LastAcked is the highest serial acknowledged on channel.
func (s *Serials) LastAcked(channel string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last uint64
	for n := range s.acked[channel] {
		last = max(last, n)
	}
	return last
}

// Subscribed records that sub listens on channel and must receive every
// serial above after (0: every serial).
func (s *Serials) Subscribed(sub, channel string, after uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sub(sub).after[channel] = after
}

// Received records that sub received serial on channel; a serial not
// above the last one it received there is a duplicate or out of order.
func (s *Serials) Received(sub, channel string, serial uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.sub(sub)
	if last := r.last[channel]; serial <= last {
		r.problems = append(r.problems, fmt.Sprintf("%s on %s: serial %d after %d (duplicate or out of order)", sub, channel, serial, last))
		return
	}
	r.last[channel] = serial
	if r.got[channel] == nil {
		r.got[channel] = map[uint64]bool{}
	}
	r.got[channel][serial] = true
}

// Last is the last serial sub received on channel (what it resumes from).
func (s *Serials) Last(sub, channel string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sub(sub).last[channel]
}

// Missing counts the acknowledged serials subscribers have not received.
func (s *Serials) Missing() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.subs {
		for ch := range r.after {
			n += len(s.missing(r, ch))
		}
	}
	return n
}

// Check returns nil when every subscriber received every acknowledged
// serial of its channels once and in order, or an error listing what
// went wrong.
func (s *Serials) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var problems []string
	names := make([]string, 0, len(s.subs))
	for name := range s.subs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		r := s.subs[name]
		problems = append(problems, r.problems...)
		for ch := range r.after {
			if m := s.missing(r, ch); len(m) > 0 {
				problems = append(problems, fmt.Sprintf("%s on %s: %d acknowledged serials missing, first %v", name, ch, len(m), m[:min(len(m), maxReported)]))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("serials: %d problems: %v", len(problems), problems)
}

// missing lists, sorted, the serials acked on ch above r's start that r
// has not received.
func (s *Serials) missing(r *subscriber, ch string) []uint64 {
	var out []uint64
	for serial := range s.acked[ch] {
		if serial > r.after[ch] && !r.got[ch][serial] {
			out = append(out, serial)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Serials) sub(name string) *subscriber {
	r := s.subs[name]
	if r == nil {
		r = &subscriber{after: map[string]uint64{}, last: map[string]uint64{}, got: map[string]map[uint64]bool{}}
		s.subs[name] = r
	}
	return r
}
