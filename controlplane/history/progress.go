package history

import (
	"sync"
	"time"
)

// progress keeps the writer's pending and lag gauges right while several
// loops write batches at once and commit them in any order: the oldest
// message not yet written is the oldest of the batches in flight, or,
// when none is, at least as young as the newest message fetched.
type progress struct {
	m *writerMetrics

	mu sync.Mutex
	// inflight maps a fetched batch (the id fetched gave it) to what it
	// holds.
	inflight map[uint64]flight
	nextID   uint64
	// unfetched is how many messages the stream held beyond the latest
	// fetch, and tail the stored time (Unix ns) of that fetch's newest
	// message, 0 when none were left: the next unwritten message is no
	// older.
	unfetched uint64
	tail      int64
}

// flight is a batch fetched and not yet committed.
type flight struct {
	oldest int64 // stored time of its first message, Unix ns
	n      int
}

func newProgress(m *writerMetrics) *progress {
	return &progress{m: m, inflight: make(map[uint64]flight)}
}

// fetched records a batch of n messages, the first stored at first and
// the last at last, after which the stream held pending more, and returns
// the id to call done with.
func (p *progress) fetched(n int, first, last time.Time, pending uint64) (id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	p.inflight[p.nextID] = flight{oldest: first.UnixNano(), n: n}
	p.setTail(last, pending)
	p.publish()
	return p.nextID
}

// done records that the batch id is committed and acknowledged, or given
// back (it counts again once fetched again).
func (p *progress) done(id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inflight, id)
	p.publish()
}

// caughtUp records a fetch that found nothing left.
func (p *progress) caughtUp() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setTail(time.Time{}, 0)
	p.publish()
}

func (p *progress) setTail(last time.Time, pending uint64) {
	p.unfetched, p.tail = pending, 0
	if pending > 0 {
		p.tail = last.UnixNano()
	}
}

// publish sets the gauges; p.mu is held.
func (p *progress) publish() {
	oldest, n := p.tail, p.unfetched
	for _, f := range p.inflight {
		n += uint64(f.n)
		if oldest == 0 || f.oldest < oldest {
			oldest = f.oldest
		}
	}
	p.m.pending.Set(float64(n))
	p.m.oldest.Store(oldest)
}
