package bench

import (
	"context"
	"time"
)

// audience is who counts a step's deliveries: this process's subscribers
// (local) or those of worker processes (fleet).
type audience interface {
	// begin resets every subscriber's count for step.
	begin(ctx context.Context, step uint64) error
	// delivered is the distinct deliveries of the current step so far.
	delivered(ctx context.Context) (int64, error)
	// collect returns what the subscribers received in the current step.
	collect(ctx context.Context) (Receipt, error)
}

// Receipt is what a set of subscribers received in one step.
type Receipt struct {
	Received []Received `json:"received"`
	// Stray counts events of earlier steps.
	Stray int64 `json:"stray"`
	// Open counts the subscribers still connected.
	Open    int          `json:"open"`
	Latency HistSnapshot `json:"latency"`
	// LastNs is when the last distinct delivery arrived (Unix ns), 0 if
	// none did.
	LastNs int64 `json:"last_ns"`
}

// add merges o into r.
func (r *Receipt) add(o Receipt) {
	r.Received = append(r.Received, o.Received...)
	r.Stray += o.Stray
	r.Open += o.Open
	r.LastNs = max(r.LastNs, o.LastNs)
}

// local is the audience of the subscribers this process holds.
type local struct{ b *Bench }

func (l local) begin(_ context.Context, step uint64) error {
	b := l.b
	for _, s := range b.subs {
		s.startStep(step)
	}
	b.hist.Reset()
	b.delivered.Store(0)
	b.lastRecv.Store(0)
	return nil
}

func (l local) delivered(context.Context) (int64, error) { return l.b.delivered.Load(), nil }

func (l local) collect(context.Context) (Receipt, error) {
	b := l.b
	r := Receipt{
		Received: make([]Received, len(b.subs)),
		Latency:  b.hist.Snapshot(),
		LastNs:   b.lastRecv.Load(),
	}
	for i, s := range b.subs {
		rec, stray, up := s.snapshot()
		r.Received[i] = rec
		r.Stray += stray
		if up {
			r.Open++
		}
	}
	return r, nil
}

// drainPollFor is how often a step asks aud for its deliveries while it
// drains: a fleet's answer crosses processes, so it is asked less often.
func drainPollFor(aud audience) time.Duration {
	if _, ok := aud.(*fleet); ok {
		return fleetDrainPoll
	}
	return drainPoll
}
