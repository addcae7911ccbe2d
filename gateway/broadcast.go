package gateway

import (
	"runtime"
	"sync"
	"time"

	"github.com/heraldhq/herald/bus/stream"
)

// A fan-out writes each subscriber's copy to its socket itself when it can
// (conn.writeDirectLocked), so its cost is CPU, spent in the goroutine
// that runs it. Two rules keep that from hurting anyone else
// (docs/performance.md):
//
//   - a large channel's fan-out is split over up to GOMAXPROCS goroutines,
//     so one message to thousands of subscribers uses every core, as the
//     writer goroutines it replaces did;
//   - when messages are waiting behind the one being fanned out, the
//     fan-out only queues (the writer goroutines write, on every core,
//     and a connection's frames that piled up go out in one writev): at
//     saturation batching saves more than the direct write does;
//   - every fanoutYieldEvery copies, a fan-out yields its P, so that
//     a goroutine accepting or storing the next publish (HTTP, NATS)
//     waits for at most that many socket writes, not for a whole fan-out
//     or a scheduler time slice. Go has no goroutine priorities; this is
//     how accepting a message comes before writing the millionth copy of
//     the last one.
const (
	// fanoutPartMin is the fewest subscribers a fan-out goroutine is
	// given. A fan-out to 1,000 takes about 3 ms in one goroutine; split
	// in two (at 256 per part) it kept the same CPU and delivery latency
	// but doubled the REST publish call's median (0.8 → 1.6 ms), its
	// second goroutine taking the core the publish needed. At 5,000 with
	// another process holding a core, one goroutine doubled the delivery
	// p99 (75 → 130–200 ms); two brought it back (docs/performance.md).
	fanoutPartMin = 1024
	// maxFanoutParts bounds the goroutines of one fan-out.
	maxFanoutParts = 8
	// maxPooledRefs is the largest subscriber array a pooled fan-out
	// keeps (16 bytes each).
	maxPooledRefs = 1 << 16
	// fanoutYieldEvery is how many copies a fan-out hands out between
	// yields: about 0.3–0.5 ms of socket writes on the test machine.
	fanoutYieldEvery = 128
)

// fanoutBehindAge is how old a message may be when its fan-out starts
// before the fan-out counts as behind: well above the stored-to-shard
// hop's p99 on a busy host (0.2–0.7 ms measured, docs/performance.md),
// well below what a backlog builds up to.
const fanoutBehindAge = 5 * time.Millisecond

// fanoutBehindHold is how long a channel's fan-outs keep only queueing
// after one found itself behind: a queueing fan-out is quick, so the next
// message would find no backlog, write directly, fall behind again, and
// half the copies would miss the writers' batching.
const fanoutBehindHold = 100 * time.Millisecond

// fanoutBehind reports whether d's fan-out should only queue: messages
// wait behind it in its shard, or it was stored long enough ago that the
// live path is falling behind, and the channel's previous fan-out started
// less than fanoutBehindHold ago; or a fan-out of the channel was behind
// within fanoutBehindHold. Then the writers' batching (several frames per
// writev) is worth more than the direct write: one write per copy topped
// out near 200,000 deliveries/s at 1,000 subscribers where queued writers
// reached 280,000 (docs/performance.md). Batching needs frames of the
// same channel close together: a channel whose messages come further
// apart than the hold (a broadcast a second to 100,000 subscribers) would
// only pay a writer goroutine per copy for nothing, so it keeps writing
// directly however late it runs. The age compares JetStream's clock with
// the gateway's: on hosts whose clocks disagree by more than the bound, a
// gateway ahead always queues a busy channel (as before direct writes)
// and one behind queues only on a backlog in its shard.
func (cs *channelState) fanoutBehind(d *stream.Delivery) bool {
	now := time.Now()
	prev := cs.lastFanout.Swap(now.UnixNano())
	busy := now.UnixNano()-prev < int64(fanoutBehindHold)
	late := d.Waiting > 0 || !d.Time.IsZero() && now.Sub(d.Time) > fanoutBehindAge
	if busy && late {
		cs.queueUntil.Store(now.Add(fanoutBehindHold).UnixNano())
		return true
	}
	return now.UnixNano() < cs.queueUntil.Load()
}

// subRef is one subscriber of a fan-out split into parts.
type subRef struct {
	c   *conn
	sub *subscription
}

// parallelFanout is one message's fan-out split into parts. It is pooled,
// parts and their goroutines' functions included, so that a split fan-out
// allocates nothing either.
type parallelFanout struct {
	refs  []subRef
	h     heldFrame
	skip  string
	wg    sync.WaitGroup
	parts [maxFanoutParts]fanoutPart
}

// fanoutPart is the subscribers refs[lo:hi] of a parallelFanout.
type fanoutPart struct {
	f      *parallelFanout
	lo, hi int
	// n is how many copies the part queued or wrote.
	n int
	// run is runAndDone, bound once: a go statement on a method value
	// would allocate.
	run func()
}

var fanoutPool = sync.Pool{New: func() any {
	f := &parallelFanout{}
	for i := range f.parts {
		p := &f.parts[i]
		p.f = f
		p.run = p.runAndDone
	}
	return f
}}

// broadcast hands one encoded event to every local subscriber's sink
// except skip (a socket id, or ""). h.serial is the message's serial (0
// for protocol events) and h.prev its channel predecessor's: subscribers
// still replaying history get it later, deduplicated against the replay.
// behind says messages are waiting behind this one: every copy is then
// queued for its connection's writer, none written here. It returns how
// many copies it handed out. The channel's lock is held shared until
// every part is done, as for a fan-out in one goroutine.
func (cs *channelState) broadcast(h heldFrame, skip string, behind bool) int {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	h.queueOnly = behind
	parts := min(runtime.GOMAXPROCS(0), maxFanoutParts, len(cs.subs)/fanoutPartMin)
	if behind {
		// Queueing is cheap; the writers spread over the cores.
		parts = 1
	}
	if parts < 2 {
		n, i := 0, 0
		for c, sub := range cs.subs {
			if c.socketID == skip {
				continue
			}
			if c.enqueueFor(sub, h) {
				n++
			}
			// Not when only queueing: that is quick, and a yield would
			// put the fan-out behind every writer it started.
			if i++; i%fanoutYieldEvery == 0 && !behind {
				runtime.Gosched()
			}
		}
		return n
	}
	f := fanoutPool.Get().(*parallelFanout)
	for c, sub := range cs.subs {
		f.refs = append(f.refs, subRef{c, sub})
	}
	f.h, f.skip = h, skip
	size := (len(f.refs) + parts - 1) / parts
	for i := range parts {
		p := &f.parts[i]
		p.lo, p.hi, p.n = min(i*size, len(f.refs)), min((i+1)*size, len(f.refs)), 0
	}
	f.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		// Owned by this call, which waits for it below.
		go f.parts[i].run()
	}
	f.parts[0].deliver()
	f.wg.Wait()
	n := 0
	for i := range parts {
		n += f.parts[i].n
	}
	// Nothing of this message stays reachable from the pool, nor the
	// array of a channel far larger than most.
	clear(f.refs)
	f.refs, f.h, f.skip = f.refs[:0], heldFrame{}, ""
	if cap(f.refs) > maxPooledRefs {
		f.refs = nil
	}
	fanoutPool.Put(f)
	return n
}

// runAndDone delivers the part in a goroutine of its own.
func (p *fanoutPart) runAndDone() {
	p.deliver()
	p.f.wg.Done()
}

// deliver hands the message to the part's subscribers.
func (p *fanoutPart) deliver() {
	f := p.f
	for i, r := range f.refs[p.lo:p.hi] {
		if r.c.socketID == f.skip {
			continue
		}
		if r.c.enqueueFor(r.sub, f.h) {
			p.n++
		}
		if (i+1)%fanoutYieldEvery == 0 {
			runtime.Gosched()
		}
	}
}
