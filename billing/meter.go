package billing

import (
	"sync"
	"sync/atomic"
	"time"
)

// cacheLine pads the hot counters apart, so that gateways delivering to
// many connections of one app from several cores do not bounce one cache
// line between them for unrelated counters.
const cacheLine = 64

// padded is an atomic counter alone on its cache line.
type padded struct {
	atomic.Int64
	_ [cacheLine - 8]byte
}

// meterShards is how many shards an app's delivery counters are spread
// over: the writers of a large fan-out on several cores add to different
// cache lines instead of bouncing one between them. A power of two.
const meterShards = 8

// shardData is the size of a MeterShard's counters and app pointer.
const shardData = 32

// MeterShard is one shard of an app's delivery counters. A connection
// takes one when it opens (AppMeter.Shard) and counts its writes there:
// one atomic add per counter per write, with no lookup, lock or
// allocation, on a cache line few other writers touch. The counts are
// deltas since the last flush; the flush sums the shards.
type MeterShard struct {
	delivered atomic.Int64
	presence  atomic.Int64
	bytesOut  atomic.Int64
	app       *AppMeter
	// Two lines of padding: shards are not cache-line aligned, so a
	// shard's counters may straddle two lines, which the next shard's
	// must not share.
	_ [2*cacheLine - shardData]byte
}

// AppMeter counts one app's usage in one process. A connection looks it
// up once, when its app is known, and keeps a shard of it (Shard): every
// count on the hot path is then one atomic add, with no lookup, lock or
// allocation. The counts are deltas since the last flush.
type AppMeter struct {
	appID string

	shards       [meterShards]MeterShard
	nextShard    atomic.Uint32
	apiRequests  padded
	historyReads padded
	webhookCalls padded

	// open and connNs integrate open connections over time, exactly:
	// connNs is minus the open time of every connection opened since the
	// last flush plus the close time of every one closed (nanoseconds
	// since base, the last flush, so that it stays small), and at a flush
	// at t the connection time of the interval is connNs + open·(t-base).
	// Opens and closes are rare next to deliveries: a mutex keeps them
	// consistent with the flush.
	connMu sync.Mutex
	open   int64
	connNs int64
	base   int64
	// peak is the most connections open at once since the last flush
	// (peak_connections): kept at every open, so that connections that
	// open and close between two flushes count.
	peak int64
	// carryNs is connection time under a whole second, carried into the
	// next flush so that the sum over flushes is exact.
	carryNs int64
	// foldMu guards unfolded, and makes a flush's move of the delivery
	// counts from the counters into unfolded atomic for quotaUse.
	foldMu   sync.Mutex
	unfolded []unfoldedCount
	// used reports whether the app was counted since the last flush,
	// connections included, so that idle apps flush nothing.
	used atomic.Bool
	// now is the meter's clock, in nanoseconds.
	now func() int64
}

// newAppMeter returns an app's meter on the clock now.
func newAppMeter(appID string, now func() int64) *AppMeter {
	a := &AppMeter{appID: appID, now: now, base: now()}
	for i := range a.shards {
		a.shards[i].app = a
	}
	return a
}

// Shard returns the shard a new connection counts its writes in: the
// shards in turn, so that an app's connections spread over all of them.
// A nil AppMeter (metering off) has nil shards, which count nothing.
func (a *AppMeter) Shard() *MeterShard {
	if a == nil {
		return nil
	}
	return &a.shards[a.nextShard.Add(1)%meterShards]
}

// App is the shard's app meter, for what a connection counts besides its
// writes (Opened, Closed).
func (s *MeterShard) App() *AppMeter {
	if s == nil {
		return nil
	}
	return s.app
}

// Delivered counts n channel events of bytes total written to a
// connection (messages_delivered, bytes_out).
func (s *MeterShard) Delivered(n, bytes int64) {
	if s == nil {
		return
	}
	s.delivered.Add(n)
	s.bytesOut.Add(bytes)
	s.app.mark()
}

// Presence counts n member_added / member_removed events written to a
// connection.
func (s *MeterShard) Presence(n int64) {
	if s == nil {
		return
	}
	s.presence.Add(n)
	s.app.mark()
}

// Delivered counts n channel events of bytes total written, in the
// app's first shard: for callers off the fan-out path and tests.
func (a *AppMeter) Delivered(n, bytes int64) {
	if a == nil {
		return
	}
	a.Shard0().Delivered(n, bytes)
}

// Presence counts n member events written, in the app's first shard.
func (a *AppMeter) Presence(n int64) {
	if a == nil {
		return
	}
	a.Shard0().Presence(n)
}

// Shard0 is the app's first shard.
func (a *AppMeter) Shard0() *MeterShard { return &a.shards[0] }

// APIRequest counts one authenticated tenant REST request.
func (a *AppMeter) APIRequest() {
	if a == nil {
		return
	}
	a.apiRequests.Add(1)
	a.mark()
}

// WebhookCall counts one webhook delivery that reached its endpoint
// (retries count once).
func (a *AppMeter) WebhookCall() {
	if a == nil {
		return
	}
	a.webhookCalls.Add(1)
	a.mark()
}

// HistoryReads counts n messages returned by the history API.
func (a *AppMeter) HistoryReads(n int64) {
	if a == nil {
		return
	}
	a.historyReads.Add(n)
	a.mark()
}

// mark records that the app has something to flush; the load first keeps
// the cache line shared while it is already set.
func (a *AppMeter) mark() {
	if !a.used.Load() {
		a.used.Store(true)
	}
}

// Opened counts a connection that opened now.
func (a *AppMeter) Opened() {
	if a == nil {
		return
	}
	a.connMu.Lock()
	a.open++
	a.peak = max(a.peak, a.open)
	a.connNs -= a.now() - a.base
	a.connMu.Unlock()
	a.mark()
}

// Closed counts a connection counted by Opened that closed now.
func (a *AppMeter) Closed() {
	if a == nil {
		return
	}
	a.connMu.Lock()
	a.open--
	a.connNs += a.now() - a.base
	a.connMu.Unlock()
	a.mark()
}

// Open returns the app's connections open in this process.
func (a *AppMeter) Open() int64 {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	return a.open
}

// Unflushed is what a crash would lose of the app's deliveries now:
// deliveries and presence events counted since the last flush.
func (a *AppMeter) Unflushed() int64 {
	var n int64
	for i := range a.shards {
		n += a.shards[i].delivered.Load() + a.shards[i].presence.Load()
	}
	return n
}

// take swaps the app's deltas to zero and returns them, and the most
// connections the app had open at once since the last flush; the
// deliveries and presence events are kept as unfolded in the flush tag
// names.
func (a *AppMeter) take(tag flushTag) (c Counters, peak int64) {
	a.used.Store(false)
	a.foldMu.Lock()
	for i := range a.shards {
		s := &a.shards[i]
		c.MessagesDelivered += s.delivered.Swap(0)
		c.PresenceEvents += s.presence.Swap(0)
		c.BytesOut += s.bytesOut.Swap(0)
	}
	a.recordUnfoldedLocked(tag, c.MessagesDelivered+c.PresenceEvents)
	a.foldMu.Unlock()
	c.APIRequests = a.apiRequests.Swap(0)
	c.HistoryReads = a.historyReads.Swap(0)
	c.WebhookCalls = a.webhookCalls.Swap(0)
	a.connMu.Lock()
	// Read under the lock: no open or close falls between the clock and
	// the sum.
	nowNs := a.now()
	ns := a.connNs + a.open*(nowNs-a.base) + a.carryNs
	// The open connections start the next interval now, its peak too.
	a.connNs, a.base = 0, nowNs
	peak, a.peak = a.peak, a.open
	a.carryNs = ns % int64(time.Second)
	a.connMu.Unlock()
	c.ConnectionSeconds = ns / int64(time.Second)
	return c, peak
}

// giveBack adds deltas a flush could not keep back into the app's
// counters: they go out with a later flush, and tag's record goes.
func (a *AppMeter) giveBack(c Counters, tag flushTag) {
	s := &a.shards[0]
	a.foldMu.Lock()
	a.forgetUnfoldedLocked(tag, c.MessagesDelivered+c.PresenceEvents)
	s.delivered.Add(c.MessagesDelivered)
	s.presence.Add(c.PresenceEvents)
	a.foldMu.Unlock()
	s.bytesOut.Add(c.BytesOut)
	a.apiRequests.Add(c.APIRequests)
	a.historyReads.Add(c.HistoryReads)
	a.webhookCalls.Add(c.WebhookCalls)
	a.connMu.Lock()
	a.carryNs += c.ConnectionSeconds * int64(time.Second)
	a.connMu.Unlock()
	a.used.Store(true)
}

// Meter holds one process's AppMeters.
type Meter struct {
	apps sync.Map // app id -> *AppMeter
	// epoch anchors the monotonic clock that connection time is measured
	// on; now overrides it in tests.
	epoch time.Time
	now   func() time.Time
}

// NewMeter returns an empty Meter on clock now (nil: time.Now).
func NewMeter(now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	return &Meter{epoch: now(), now: now}
}

// App returns appID's AppMeter, made on first use. Call it once per
// connection or request, not per delivery. A nil Meter (metering off)
// returns nil, and a nil *AppMeter counts nothing.
func (m *Meter) App(appID string) *AppMeter {
	if m == nil {
		return nil
	}
	if a, ok := m.apps.Load(appID); ok {
		return a.(*AppMeter)
	}
	a, _ := m.apps.LoadOrStore(appID, newAppMeter(appID, m.nanos))
	return a.(*AppMeter)
}

// nanos is the meter's clock in nanoseconds since its epoch; monotonic
// when now is time.Now.
func (m *Meter) nanos() int64 { return m.now().Sub(m.epoch).Nanoseconds() }

// Unflushed estimates the deliveries and presence events counted and not
// yet flushed: what a SIGKILL of the process now would lose.
func (m *Meter) Unflushed() int64 {
	var n int64
	m.apps.Range(func(_, v any) bool {
		n += v.(*AppMeter).Unflushed()
		return true
	})
	return n
}

// forgetUnfolded drops every app's unfolded records: their source is
// done with (flushSourceIdle).
func (m *Meter) forgetUnfolded() {
	m.apps.Range(func(_, v any) bool {
		a := v.(*AppMeter)
		a.foldMu.Lock()
		clear(a.unfolded)
		a.unfolded = a.unfolded[:0]
		a.foldMu.Unlock()
		return true
	})
}

// AppUsage is one app's deltas in a flush.
type AppUsage struct {
	AppID    string   `json:"app_id"`
	Counters Counters `json:"counters"`
}

// take swaps every app's deltas to zero and returns the non-zero ones,
// to go out in the flush tag names. sample, when set, gives the app's
// cluster-wide connection count for peak_connections from this process's
// peak since the last flush, asked for apps that had connections here.
func (m *Meter) take(sample func(appID string, local int64) int64, tag flushTag) []AppUsage {
	var out []AppUsage
	m.apps.Range(func(_, v any) bool {
		a := v.(*AppMeter)
		if !a.used.Load() && a.Open() == 0 {
			return true
		}
		c, peak := a.take(tag)
		if peak > 0 {
			c.PeakConnections = peak
			if sample != nil {
				c.PeakConnections = sample(a.appID, peak)
			}
		}
		if !c.IsZero() {
			out = append(out, AppUsage{AppID: a.appID, Counters: c})
		}
		return true
	})
	return out
}
