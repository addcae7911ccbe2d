package webhookstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults of EmitterConfig.
const (
	// DefaultMaxQueue bounds the events waiting to be published; past it
	// new events are dropped (and counted in the log), so that a
	// JetStream outage cannot exhaust memory.
	DefaultMaxQueue = 1 << 20
	// DefaultConcurrency is how many publishes are in flight at once
	// (each of a different channel).
	DefaultConcurrency = 256
	// DefaultPublishTimeout bounds one publish attempt.
	DefaultPublishTimeout = 5 * time.Second
	// FlushTimeout bounds publishing what is queued when Run stops.
	FlushTimeout = 5 * time.Second
	// minRetry and maxRetry bound the pause before publishing a failed
	// round again.
	minRetry = 100 * time.Millisecond
	maxRetry = 5 * time.Second
)

// EmitterConfig configures an Emitter. JS is required.
type EmitterConfig struct {
	// JS publishes to the HERALD_WEBHOOK_EVENTS stream, which
	// webhookevents.EnsureStream must have created.
	JS             jetstream.JetStream
	MaxQueue       int
	Concurrency    int
	PublishTimeout time.Duration
	// OnStored, when set, receives each round's events once they are
	// stored (or skipped, NoPublish), in queue order per channel. It
	// runs on Run's goroutine and must not block.
	OnStored func([]Event)
	// Source names the emitter in its metrics' "source" label
	// ("gateway", "decider").
	Source string
	// Registerer receives the emitter's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Emitter publishes webhook events to HERALD_WEBHOOK_EVENTS in the
// order they were queued per channel: a channel's next event is published
// only once the previous one is stored, while different channels' events
// are published concurrently. A failed publish is retried with the same
// Nats-Msg-Id until it succeeds or Run stops. Emit is safe for
// concurrent use and never blocks.
type Emitter struct {
	cfg          EmitterConfig
	log          *slog.Logger
	wake         chan struct{}
	published    prometheus.Counter
	droppedCount prometheus.Counter

	mu      sync.Mutex
	queue   []Event
	dropped int
}

// NewEmitter returns an Emitter; Run publishes.
func NewEmitter(cfg EmitterConfig) (*Emitter, error) {
	if cfg.JS == nil {
		return nil, errors.New("webhook emitter: JS is required")
	}
	cfg.MaxQueue = defaults.Positive(cfg.MaxQueue, DefaultMaxQueue)
	cfg.Concurrency = defaults.Positive(cfg.Concurrency, DefaultConcurrency)
	cfg.PublishTimeout = defaults.Positive(cfg.PublishTimeout, DefaultPublishTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Emitter{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if err := e.registerMetrics(); err != nil {
		return nil, fmt.Errorf("webhook emitter: %w", err)
	}
	return e, nil
}

// registerMetrics makes the emitter's metrics and registers them.
func (e *Emitter) registerMetrics() error {
	const ns, sub = "herald", "webhook_events"
	labels := prometheus.Labels{"source": e.cfg.Source}
	e.published = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "published_total",
		Help: "Webhook events stored in HERALD_WEBHOOK_EVENTS (a retry counts once).", ConstLabels: labels})
	e.droppedCount = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dropped_total",
		Help: "Webhook events dropped because the emitter's queue was full.", ConstLabels: labels})
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "pending",
		Help: "Webhook events waiting to be stored.", ConstLabels: labels}, func() float64 { return float64(e.Pending()) })
	if e.cfg.Registerer == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{e.published, e.droppedCount, pending} {
		if err := e.cfg.Registerer.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Emit queues events for publishing.
func (e *Emitter) Emit(evs ...Event) {
	if len(evs) == 0 {
		return
	}
	e.mu.Lock()
	room := e.cfg.MaxQueue - len(e.queue)
	if room < len(evs) {
		e.dropped += len(evs) - max(room, 0)
		e.droppedCount.Add(float64(len(evs) - max(room, 0)))
		evs = evs[:max(room, 0)]
	}
	e.queue = append(e.queue, evs...)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Pending is the number of events queued and not yet published.
func (e *Emitter) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue)
}

// Run publishes queued events until ctx is done, then publishes what is
// still queued for up to FlushTimeout.
func (e *Emitter) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), FlushTimeout)
			e.drain(fctx)
			cancel()
			if n := e.Pending(); n > 0 {
				e.log.Warn("webhook events not published at stop", slog.Int("events", n))
			}
			return
		case <-e.wake:
		}
		e.drain(ctx)
	}
}

// drain publishes everything queued, round by round, until the queue is
// empty or ctx is done.
func (e *Emitter) drain(ctx context.Context) {
	for ctx.Err() == nil {
		e.mu.Lock()
		batch := e.queue
		e.queue = nil
		dropped := e.dropped
		e.dropped = 0
		e.mu.Unlock()
		if dropped > 0 {
			e.log.Warn("webhook event queue full; events dropped", slog.Int("dropped", dropped))
		}
		if len(batch) == 0 {
			return
		}
		for len(batch) > 0 {
			round, rest := firstPerChannel(batch)
			left := e.publishRound(ctx, round)
			e.published.Add(float64(published(round) - published(left)))
			if e.cfg.OnStored != nil && len(left) < len(round) {
				e.cfg.OnStored(stored(round, left))
			}
			if len(left) > 0 {
				// Stopped: put the unpublished events back in front.
				e.mu.Lock()
				e.queue = append(append(left, rest...), e.queue...)
				e.mu.Unlock()
				return
			}
			batch = rest
		}
	}
}

// published counts the events of evs that are published (not NoPublish).
func published(evs []Event) int {
	n := 0
	for _, ev := range evs {
		if !ev.NoPublish {
			n++
		}
	}
	return n
}

// stored is round without the events of left (a subsequence of round).
func stored(round, left []Event) []Event {
	out := make([]Event, 0, len(round)-len(left))
	for _, ev := range round {
		if len(left) > 0 && left[0].MsgID == ev.MsgID && left[0].Env == ev.Env {
			left = left[1:]
			continue
		}
		out = append(out, ev)
	}
	return out
}

// firstPerChannel splits batch into the first event of each channel and
// the rest, both in queue order.
func firstPerChannel(batch []Event) (round, rest []Event) {
	seen := make(map[ChannelRef]struct{}, len(batch))
	for _, ev := range batch {
		ref := ChannelRef{AppID: ev.Env.AppID, Channel: ev.Env.Event.Channel}
		if _, dup := seen[ref]; dup {
			rest = append(rest, ev)
			continue
		}
		seen[ref] = struct{}{}
		round = append(round, ev)
	}
	return round, rest
}

// publishRound publishes events of distinct channels concurrently,
// retrying the failed ones, and returns those not stored when ctx ended.
func (e *Emitter) publishRound(ctx context.Context, round []Event) []Event {
	delay := minRetry
	for {
		// A few workers take the round's events in turn: a goroutine per
		// event would grow a fresh stack through the client's deep call
		// path for each.
		failed := make([]bool, len(round))
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(e.cfg.Concurrency, len(round)) {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(round); i = int(next.Add(1) - 1) {
					if round[i].NoPublish {
						continue
					}
					pctx, cancel := context.WithTimeout(ctx, e.cfg.PublishTimeout)
					failed[i] = webhookevents.Publish(pctx, e.cfg.JS, round[i].Env, round[i].MsgID) != nil
					cancel()
				}
			})
		}
		wg.Wait()
		var again []Event
		for i, f := range failed {
			if f {
				again = append(again, round[i])
			}
		}
		if len(again) == 0 || ctx.Err() != nil {
			return again
		}
		e.log.Warn("webhook events not published; retrying", slog.Int("events", len(again)))
		if !backoff.Sleep(ctx, backoff.Jitter(delay)) {
			return again
		}
		delay = min(2*delay, maxRetry)
		round = again
	}
}
