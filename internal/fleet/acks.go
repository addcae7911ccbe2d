package fleet

import (
	"fmt"
	"slices"
	"sync"
)

// Acks holds the serials publishers were acknowledged with, per channel.
// It is safe for concurrent use.
type Acks struct {
	mu  sync.Mutex
	chs map[string][]uint64
	n   int
}

// NewAcks returns an empty Acks.
func NewAcks() *Acks { return &Acks{chs: map[string][]uint64{}} }

// Add records that a publish on channel was acknowledged with serial.
func (a *Acks) Add(channel string, serial uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.chs[channel] = append(a.chs[channel], serial)
	a.n++
}

// Count is how many publishes were acknowledged.
func (a *Acks) Count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// sorted returns channel's serials in increasing order (publishers
// answered concurrently append them out of order).
func (a *Acks) sorted(channel string) []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.chs[channel]
	if !slices.IsSorted(s) {
		slices.Sort(s)
	}
	return slices.Clone(s)
}

// received is one subscriber's deliveries on its channel: the serials in
// the order they came, above the serial it started after.
type received struct {
	mu    sync.Mutex
	after uint64
	got   []uint64
	// disorder counts serials not above the previous one: duplicates or
	// out of order.
	disorder int
	// notRecovered counts resumes the server could not fully replay
	// (resume_result {"recovered":false}).
	notRecovered int
}

// add records serial, and reports whether it came in order.
func (r *received) add(serial uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.got); n > 0 && serial <= r.got[n-1] || serial <= r.after {
		r.disorder++
		return false
	}
	r.got = append(r.got, serial)
	return true
}

// last is the last serial received, what a resume starts after.
func (r *received) last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.got); n > 0 {
		return r.got[n-1]
	}
	return r.after
}

// missing counts the serials of acked (sorted) above after that r lacks.
func (r *received) missing(acked []uint64) (missing int, first []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for _, s := range acked {
		if s <= r.after {
			continue
		}
		for i < len(r.got) && r.got[i] < s {
			i++
		}
		if i < len(r.got) && r.got[i] == s {
			continue
		}
		missing++
		if len(first) < maxReported {
			first = append(first, s)
		}
	}
	return missing, first
}

// maxReported caps the serials one problem lists.
const maxReported = 5

// Report is the outcome of a delivery check.
type Report struct {
	Subscribers int
	// Expected is the deliveries the acknowledged publishes owe the
	// subscribers; Delivered those that arrived (in order, once).
	Expected, Delivered int
	// Missing acknowledged serials, and Duplicates (or out of order).
	Missing, Duplicates int
	// NotRecovered counts resumes answered {"recovered":false}.
	NotRecovered int
	// Problems names the first subscribers with missing serials.
	Problems []string
}

// OK reports whether every acknowledged serial arrived exactly once, in
// order, at every subscriber.
func (r Report) OK() bool { return r.Missing == 0 && r.Duplicates == 0 }

// Err is nil when the report is OK, else an error naming the problems.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return fmt.Errorf("fleet: %d acknowledged serials missing, %d duplicates or out of order, over %d subscribers: %v",
		r.Missing, r.Duplicates, r.Subscribers, r.Problems)
}

func (r Report) String() string {
	return fmt.Sprintf("%d subscribers: %d deliveries expected, %d delivered, %d missing, %d duplicates, %d resumes not recovered",
		r.Subscribers, r.Expected, r.Delivered, r.Missing, r.Duplicates, r.NotRecovered)
}
