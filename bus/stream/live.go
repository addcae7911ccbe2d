package stream

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/defaults"
	"github.com/heraldhq/herald/internal/hoptrace"
	"github.com/heraldhq/herald/internal/tick"
)

// Defaults for zero LiveConfig fields.
const (
	// DefaultLiveQueueLen is the capacity of each shard's message queue.
	// When a queue is full nats.go drops messages (a slow consumer) and
	// gap repair recovers them.
	DefaultLiveQueueLen = 8192
	// DefaultLiveTimeout bounds Subscribe's round trip to the server and
	// each gap repair.
	DefaultLiveTimeout = 5 * time.Second
)

// LiveConfig configures a Live. Zero fields take the defaults above; NC,
// Reader and Handler are required.
type LiveConfig struct {
	// NC is a connection used only for live subscriptions, so that
	// JetStream traffic never delays them (docs/nats.md, "Connections").
	NC *nats.Conn
	// Reader repairs gaps; it should use another connection than NC.
	Reader *Reader
	// Shards is the number of goroutines that handle messages; all the
	// messages of one channel go to the same shard, in order. Default
	// 2*GOMAXPROCS.
	Shards int
	// QueueLen is the capacity of each shard's queue.
	QueueLen int
	// Handler receives the messages of the subscribed channels once each,
	// in serial order per channel, with no holes unless a gap could not be
	// repaired (Stats.GapsUnrecovered). It runs on a shard goroutine and
	// must not block (enqueue and return). The *Delivery is reused after
	// Handler returns: copy what you keep (Data is never reused).
	Handler func(*Delivery)
	// Timeout bounds Subscribe's round trip and each gap repair.
	Timeout time.Duration
	Logger  *slog.Logger
	// Hops times the republish hop and stamps each live Delivery's Trace
	// for the Handler (--trace-hops); nil, the default, takes no stamp.
	Hops *hoptrace.Recorder
}

// Live holds a gateway's subscriptions to live subjects: one core NATS
// subscription per channel however many local subscribers it has, and
// per-channel ordering with gap repair.
type Live struct {
	cfg     LiveConfig
	seed    maphash.Seed
	shards  []*liveShard
	running atomic.Bool
	stats   liveCounters
}

// liveChan is one subscribed channel.
type liveChan struct {
	appID, channel, subject string
	// sub and refs are guarded by the shard's mu; probe too.
	sub   *nats.Subscription
	refs  int
	probe bool
	// dropped is the subscription's drop count at the last check.
	dropped int
	// last is the serial of the last message handed to Handler, 0 until
	// the first one; only the shard goroutine touches it.
	last uint64
}

// liveShard owns the channels whose subjects hash to it.
type liveShard struct {
	live *Live
	msgs chan *nats.Msg
	// wake asks the shard to probe channels marked after a reconnect.
	wake chan struct{}

	mu     sync.Mutex
	chans  map[string]*liveChan // by live subject
	closed bool

	d Delivery // scratch for the shard goroutine
}

// NewLive returns a Live; call Run to start delivering.
func NewLive(cfg LiveConfig) (*Live, error) {
	switch {
	case cfg.NC == nil:
		return nil, errors.New("new live: NC is required")
	case cfg.Reader == nil:
		return nil, errors.New("new live: Reader is required")
	case cfg.Handler == nil:
		return nil, errors.New("new live: Handler is required")
	}
	cfg.Shards = defaults.Positive(cfg.Shards, 2*runtime.GOMAXPROCS(0))
	cfg.QueueLen = defaults.Positive(cfg.QueueLen, DefaultLiveQueueLen)
	cfg.Timeout = defaults.Positive(cfg.Timeout, DefaultLiveTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Live{cfg: cfg, seed: maphash.MakeSeed(), shards: make([]*liveShard, cfg.Shards)}
	for i := range l.shards {
		l.shards[i] = &liveShard{
			live:  l,
			msgs:  make(chan *nats.Msg, cfg.QueueLen),
			wake:  make(chan struct{}, 1),
			chans: make(map[string]*liveChan),
		}
	}
	return l, nil
}

func (l *Live) shardFor(subject string) *liveShard {
	return l.shards[maphash.String(l.seed, subject)%uint64(len(l.shards))]
}

// Subscribe adds a reference to the channel, subscribing to its live
// subject on the first one. When it returns nil, the server has the
// subscription: every message stored afterwards reaches Handler. Each
// successful Subscribe needs one Unsubscribe.
//
// Live keeps one position per channel, not per subscriber: the first
// message after the core subscription starts is delivered as is. To replay
// history to a new subscriber, Subscribe first, then read with the Reader,
// and drop live deliveries at or below the last serial read.
func (l *Live) Subscribe(appID, channel string) error {
	subject := channels.LiveSubject(appID, channel)
	sh := l.shardFor(subject)
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return ErrClosed
	}
	lc := sh.chans[subject]
	if lc == nil {
		sub, err := l.cfg.NC.ChanSubscribe(subject, sh.msgs)
		if err != nil {
			sh.mu.Unlock()
			return fmt.Errorf("subscribe live %s: %w", appID, classify(err))
		}
		lc = &liveChan{appID: appID, channel: channel, subject: subject, sub: sub}
		sh.chans[subject] = lc
	}
	lc.refs++
	sh.mu.Unlock()

	// One round trip so that the caller can read history after Subscribe
	// without a window in which a message is neither read nor delivered.
	if err := l.cfg.NC.FlushTimeout(l.cfg.Timeout); err != nil {
		l.Unsubscribe(appID, channel)
		return fmt.Errorf("subscribe live %s: %w", appID, classify(err))
	}
	return nil
}

// Unsubscribe drops a reference to the channel and the core subscription
// with the last one. Unsubscribing a channel that is not subscribed does
// nothing.
func (l *Live) Unsubscribe(appID, channel string) {
	subject := channels.LiveSubject(appID, channel)
	sh := l.shardFor(subject)
	sh.mu.Lock()
	lc := sh.chans[subject]
	if lc == nil {
		sh.mu.Unlock()
		return
	}
	lc.refs--
	if lc.refs > 0 {
		sh.mu.Unlock()
		return
	}
	delete(sh.chans, subject)
	sub := lc.sub
	sh.mu.Unlock()
	l.release(sub)
}

// release ends a core subscription, keeping its drop count for Stats.
func (l *Live) release(sub *nats.Subscription) {
	if n, err := sub.Dropped(); err == nil && n > 0 {
		l.stats.droppedGone.Add(uint64(n))
	}
	// An error means the connection is closed, which ended the
	// subscription anyway.
	_ = sub.Unsubscribe()
}

// Run delivers messages until ctx is done, then ends every subscription
// and returns nil. It may be called once; Subscribe works before Run
// (messages wait in the queues) but not after it returns.
func (l *Live) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("live: Run called twice")
	}
	status := l.cfg.NC.StatusChanged(nats.CONNECTED)
	var wg sync.WaitGroup
	for _, sh := range l.shards {
		wg.Go(func() { sh.run(ctx) })
	}
	wg.Go(func() { l.watchReconnects(ctx, status) })
	wg.Go(func() { tick.Every(ctx, dropCheckInterval, nil, l.markDropped) })
	<-ctx.Done()
	l.cfg.NC.RemoveStatusListener(status)
	wg.Wait()
	l.close()
	return nil
}

// close refuses new subscriptions and ends the existing ones.
func (l *Live) close() {
	for _, sh := range l.shards {
		sh.mu.Lock()
		sh.closed = true
		chans := sh.chans
		sh.chans = make(map[string]*liveChan)
		sh.mu.Unlock()
		for _, lc := range chans {
			l.release(lc.sub)
		}
	}
}

// watchReconnects probes every channel after the connection comes back:
// messages stored while it was down were never republished to us, and a
// quiet channel would otherwise wait for its next message to notice.
func (l *Live) watchReconnects(ctx context.Context, status <-chan nats.Status) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-status:
			if !ok {
				return
			}
		}
		// nats.go resent the subscriptions before reporting CONNECTED; one
		// round trip makes sure the server has them before we read.
		if err := l.cfg.NC.FlushTimeout(l.cfg.Timeout); err != nil {
			l.cfg.Logger.Warn("live: flush after reconnect", slog.Any("err", err))
		}
		l.probeAll()
	}
}

// dropCheckInterval is how often subscriptions are checked for messages
// nats.go dropped.
const dropCheckInterval = 250 * time.Millisecond

// markDropped marks the channels whose subscription dropped messages
// (nats.go's slow-consumer protection) for a probe: a message dropped at
// the end of a burst has no later message to reveal the gap.
func (l *Live) markDropped() {
	for _, sh := range l.shards {
		marked := false
		sh.mu.Lock()
		for _, lc := range sh.chans {
			if n, err := lc.sub.Dropped(); err == nil && n > lc.dropped {
				lc.dropped, lc.probe, marked = n, true, true
			}
		}
		sh.mu.Unlock()
		if marked {
			select {
			case sh.wake <- struct{}{}:
			default:
			}
		}
	}
}

// probeAll marks every channel for a check of missed messages and wakes
// the shards.
func (l *Live) probeAll() {
	for _, sh := range l.shards {
		sh.mu.Lock()
		for _, lc := range sh.chans {
			lc.probe = true
		}
		sh.mu.Unlock()
		select {
		case sh.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Stats are Live's counters since it was created, for metrics.
type Stats struct {
	// Deliveries counts messages handed to Handler, repaired ones included.
	Deliveries uint64
	// GapsRepaired counts gaps filled completely; Repaired the messages
	// delivered by gap repair.
	GapsRepaired uint64
	Repaired     uint64
	// GapsUnrecovered counts gaps that could not be filled (in full): the
	// messages had expired or NATS did not answer.
	GapsUnrecovered uint64
	// Duplicates counts messages dropped because their serial had been
	// delivered already.
	Duplicates uint64
	// Skipped counts deliveries whose predecessor on the channel was no
	// longer in the stream (expired or deleted before we saw it).
	Skipped uint64
	// Malformed counts messages on live subjects that did not decode.
	Malformed uint64
	// Dropped counts messages nats.go dropped because a shard's queue was
	// full (slow consumer); gap repair recovers them.
	Dropped uint64
	// Channels is the number of channels with a core subscription now.
	Channels int
}

type liveCounters struct {
	deliveries, gapsRepaired, repaired, gapsUnrecovered atomic.Uint64
	duplicates, skipped, malformed, droppedGone         atomic.Uint64
}

// Stats returns the counters. It visits every subscription, so call it at
// scrape intervals, not per message.
func (l *Live) Stats() Stats {
	s := Stats{
		Deliveries:      l.stats.deliveries.Load(),
		GapsRepaired:    l.stats.gapsRepaired.Load(),
		Repaired:        l.stats.repaired.Load(),
		GapsUnrecovered: l.stats.gapsUnrecovered.Load(),
		Duplicates:      l.stats.duplicates.Load(),
		Skipped:         l.stats.skipped.Load(),
		Malformed:       l.stats.malformed.Load(),
		Dropped:         l.stats.droppedGone.Load(),
	}
	for _, sh := range l.shards {
		sh.mu.Lock()
		s.Channels += len(sh.chans)
		for _, lc := range sh.chans {
			if n, err := lc.sub.Dropped(); err == nil {
				s.Dropped += uint64(n)
			}
		}
		sh.mu.Unlock()
	}
	return s
}
