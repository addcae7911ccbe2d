package webhookstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/defaults"
	"github.com/heraldhq/herald/internal/tick"
)

// Defaults of DeciderConfig.
const (
	// DefaultSettle is how long after a delayed event is due the Decider
	// still waits for updates stamped before that time which are on
	// their way (latency, and skew between this host's clock and the
	// servers'), so that a return just inside the leave delay cancels.
	DefaultSettle = 500 * time.Millisecond
	// DefaultSweepInterval is how often the Decider checks the registry
	// for gateways that hold keys but are gone, besides hearing of each
	// death from its registry watch.
	DefaultSweepInterval = 30 * time.Second
	// advanceInterval is how often delayed events are checked.
	advanceInterval = 100 * time.Millisecond
	// minPurgeAge spares the keys of a gateway missing from the registry
	// that were written this recently: a gateway that just registered
	// may not be visible yet on the replica that answered the registry
	// read. A dead gateway's keys are older than this by the time its
	// registry entry expires; younger ones wait for the next sweep.
	minPurgeAge = 2 * time.Second
)

// DeciderConfig configures a Decider. JS and Wants are required.
type DeciderConfig struct {
	// JS watches the bucket and the gateway registry, purges a dead
	// gateway's keys, publishes events and keeps the reported view.
	JS jetstream.JetStream
	// Wants reports whether an app wants events of a kind (its
	// channels.AppConfig.WebhookEvents); others are not published.
	Wants         func(appID string, kind channels.WebhookEventName) bool
	LeaveDelay    time.Duration
	CountInterval time.Duration
	Settle        time.Duration
	SweepInterval time.Duration
	// MarkerTTL is the TTL of the markers of purged keys.
	MarkerTTL time.Duration
	// Registerer receives the decider's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock that fires delayed events between updates; nil
	// means time.Now.
	Now func() time.Time
}

// Decider turns the bucket's updates into webhook events (Transitions)
// and publishes them (its Emitter), and purges the keys of gateways that
// died (their registry entry expired) so that their channels and members
// leave like any other. Several control planes may each run one: they
// make the same events with the same ids, which the stream stores once.
//
// It keeps what it reported in ReportedBucket (the view: channels
// occupied, their members), updated once each event is stored, so that a
// decider that starts reports what changed while none ran: its first
// load of the state is compared with the view (Transitions.Resume).
type Decider struct {
	cfg        DeciderConfig
	log        *slog.Logger
	state      *kvwatch.Watcher
	registry   *kvwatch.Watcher
	reader     *gateways.Reader
	emitter    *Emitter
	viewWriter *keyWriter
	sweepNow   chan struct{}

	mu     sync.Mutex
	tr     *Transitions
	view   view
	loaded bool
	maxSeq uint64
}

// NewDecider returns a Decider; Run runs it.
func NewDecider(cfg DeciderConfig) (*Decider, error) {
	if cfg.JS == nil || cfg.Wants == nil {
		return nil, errors.New("webhook decider: JS and Wants are required")
	}
	cfg.Settle = defaults.Positive(cfg.Settle, DefaultSettle)
	cfg.SweepInterval = defaults.Positive(cfg.SweepInterval, DefaultSweepInterval)
	if cfg.MarkerTTL < kvttl.MinTTL {
		cfg.MarkerTTL = DefaultMarkerTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Decider{
		cfg: cfg, log: cfg.Logger,
		tr:       NewTransitions(TransitionsConfig{LeaveDelay: cfg.LeaveDelay, CountInterval: cfg.CountInterval}),
		reader:   gateways.NewReader(cfg.JS.Conn()),
		sweepNow: make(chan struct{}, 1),
	}
	var err error
	d.emitter, err = NewEmitter(EmitterConfig{
		JS: cfg.JS, OnStored: d.stored, Source: "decider", Registerer: cfg.Registerer, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Registerer != nil {
		err := cfg.Registerer.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "webhook_decider", Name: "channels",
			Help: "Channels the webhook decider follows: occupied, or vacated less than the leave delay ago.",
		}, func() float64 {
			d.mu.Lock()
			defer d.mu.Unlock()
			return float64(d.tr.Channels())
		}))
		if err != nil {
			return nil, fmt.Errorf("webhook decider: %w", err)
		}
	}
	d.viewWriter = newKeyWriter(keyWriterConfig{
		JS: cfg.JS, Subject: reportedSubject, MarkerTTL: cfg.MarkerTTL, Logger: cfg.Logger,
		Snapshot: func(ref ChannelRef) ([]byte, bool) {
			d.mu.Lock()
			defer d.mu.Unlock()
			return d.view.encode(ref)
		},
	})
	d.state = kvwatch.New(kvwatch.Config{JS: cfg.JS, Bucket: Bucket, Logger: cfg.Logger, Load: d.load, Apply: d.apply})
	d.registry = kvwatch.New(kvwatch.Config{
		JS: cfg.JS, Bucket: gateways.Bucket, Logger: cfg.Logger,
		Load: func([]jetstream.KeyValueEntry) {}, Apply: d.registryChanged,
	})
	return d, nil
}

// Ready is closed once the bucket is loaded.
func (d *Decider) Ready() <-chan struct{} { return d.state.Ready() }

// Run decides until ctx is done. It first reads the reported view,
// retrying until it can.
func (d *Decider) Run(ctx context.Context) error {
	if !d.loadView(ctx) {
		return nil
	}
	// The emitter and the view outlive the watchers: on stop, what was
	// decided is published, then the view records it.
	ectx, stopEmitter := context.WithCancel(context.WithoutCancel(ctx))
	vctx, stopView := context.WithCancel(context.WithoutCancel(ctx))
	var sinks sync.WaitGroup
	sinks.Go(func() { d.emitter.Run(ectx) })
	sinks.Go(func() { d.viewWriter.run(vctx) })
	defer func() {
		stopEmitter()
		stopView()
		sinks.Wait()
		d.viewWriter.flush()
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- d.state.Run(ctx) })
	wg.Go(func() { errs <- d.registry.Run(ctx) })
	wg.Go(func() { tick.Every(ctx, advanceInterval, nil, d.advance) })
	wg.Go(func() {
		select {
		case <-d.state.Ready():
		case <-ctx.Done():
			return
		}
		signal(d.sweepNow)
		tick.Every(ctx, d.cfg.SweepInterval, d.sweepNow, func() { d.sweep(ctx) })
	})
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// loadView reads the reported view, retrying with back-off, and reports
// whether it did before ctx ended.
func (d *Decider) loadView(ctx context.Context) bool {
	delay := minRetry
	for {
		lctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
		v, raw, err := loadView(lctx, d.cfg.JS)
		cancel()
		if err == nil {
			d.mu.Lock()
			d.view = v
			d.mu.Unlock()
			for ref, b := range raw {
				d.viewWriter.Known(ref, b)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.log.Warn("webhook decider: reading the reported view failed; retrying", slog.Any("error", err))
		if !backoff.Sleep(ctx, backoff.Jitter(delay)) {
			return false
		}
		delay = min(2*delay, maxRetry)
	}
}

// stored records events the emitter stored in the view.
func (d *Decider) stored(evs []Event) {
	d.mu.Lock()
	changed := d.view.apply(evs)
	d.mu.Unlock()
	for _, ref := range changed {
		d.viewWriter.Mark(ref)
	}
}

// update reads one watch entry.
func update(e jetstream.KeyValueEntry) (Update, error) {
	k, err := ParseKey(e.Key())
	if err != nil {
		return Update{}, err
	}
	u := Update{Key: k, Seq: e.Revision(), At: e.Created(), Deleted: e.Operation() != jetstream.KeyValuePut}
	if !u.Deleted {
		if u.Value, err = DecodeValue(e.Value()); err != nil {
			return Update{}, err
		}
	}
	return u, nil
}

// load takes the bucket's live keys: a baseline the first time, and after
// a watch failed, the difference from what was known (keys gone meanwhile
// leave now).
func (d *Decider) load(entries []jetstream.KeyValueEntry) {
	us := make([]Update, 0, len(entries))
	for _, e := range entries {
		if u, err := update(e); err == nil {
			us = append(us, u)
		} else {
			d.log.Warn("ignoring webhook state entry", slog.String("key", e.Key()), slog.Any("error", err))
		}
	}
	d.mu.Lock()
	for _, u := range us {
		d.maxSeq = max(d.maxSeq, u.Seq)
	}
	var out []Event
	if !d.loaded {
		d.loaded = true
		out = d.tr.Resume(us, d.view.members(), d.cfg.Now(), d.maxSeq)
		d.emit(out)
		d.mu.Unlock()
		return
	}
	present := make(map[Key]struct{}, len(us))
	for _, u := range us {
		present[u.Key] = struct{}{}
		out = append(out, d.tr.Apply(u)...)
	}
	now := d.cfg.Now()
	for k := range d.tr.Shares() {
		if _, ok := present[k]; !ok {
			// Newer than anything loaded, so that it is not taken for stale.
			out = append(out, d.tr.Apply(Update{Key: k, Seq: d.maxSeq + 1, At: now, Deleted: true})...)
		}
	}
	d.emit(out)
	d.mu.Unlock()
}

// apply folds in updates after the load.
func (d *Decider) apply(batch []jetstream.KeyValueEntry) {
	var out []Event
	d.mu.Lock()
	for _, e := range batch {
		u, err := update(e)
		if err != nil {
			d.log.Warn("ignoring webhook state entry", slog.String("key", e.Key()), slog.Any("error", err))
			continue
		}
		d.maxSeq = max(d.maxSeq, u.Seq)
		out = append(out, d.tr.Apply(u)...)
	}
	d.emit(out)
	d.mu.Unlock()
}

// advance fires the delayed events due Settle ago.
func (d *Decider) advance() {
	d.mu.Lock()
	if !d.loaded {
		d.mu.Unlock()
		return
	}
	out := d.tr.Advance(d.cfg.Now().Add(-d.cfg.Settle))
	d.emit(out)
	d.mu.Unlock()
}

// emit publishes the events their apps want; the others go through the
// emitter unpublished, to reach the view in order. Called with d.mu held,
// so that events decided by updates and by the clock are queued in the
// order they were decided.
func (d *Decider) emit(evs []Event) {
	for i, ev := range evs {
		evs[i].NoPublish = !d.cfg.Wants(ev.Env.AppID, ev.Env.Event.Name)
	}
	d.emitter.Emit(evs...)
}

// registryChanged hears of gateways leaving the registry: a clean stop
// (the gateway purged its keys already) or a death (its keys are left).
func (d *Decider) registryChanged(batch []jetstream.KeyValueEntry) {
	for _, e := range batch {
		if e.Operation() != jetstream.KeyValuePut && !strings.Contains(e.Key(), ".") {
			// Not a janitor lock: a gateway left.
			signal(d.sweepNow)
			return
		}
	}
}

// sweep purges the keys of gateways that are not in the registry: those
// the watch saw go, and any other (a death while no control plane ran).
func (d *Decider) sweep(ctx context.Context) {
	live, err := d.reader.GatewayIDs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("webhook state sweep: registry read failed", slog.Any("error", err))
		}
		return
	}
	isLive := make(map[string]bool, len(live))
	for _, id := range live {
		isLive[id] = true
	}
	d.mu.Lock()
	shares := d.tr.Shares()
	d.mu.Unlock()
	var stale []Key
	young := false
	cutoff := d.cfg.Now().Add(-minPurgeAge)
	for k, s := range shares {
		switch {
		case isLive[k.GatewayID]:
		case s.At.After(cutoff):
			young = true
		default:
			stale = append(stale, k)
		}
	}
	if young {
		time.AfterFunc(minPurgeAge, func() { signal(d.sweepNow) })
	}
	if len(stale) > 0 {
		d.purge(ctx, stale, shares)
	}
}

// purge removes dead gateways' keys, each as a compare-and-set on the
// revision known, so that a gateway that was only cut off and has written
// its keys again keeps them.
func (d *Decider) purge(ctx context.Context, keys []Key, shares map[Key]Share) {
	ctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	acks := make([]jetstream.PubAckFuture, 0, len(keys))
	for _, k := range keys {
		m := kvttl.ExpectRev(kvttl.Purge(k.subject(), d.cfg.MarkerTTL), shares[k].Seq)
		if ack, err := d.cfg.JS.PublishMsgAsync(m); err == nil {
			acks = append(acks, ack)
		}
	}
	failed := 0
	for _, ack := range acks {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			if !kvttl.IsWrongRev(err) {
				failed++
			}
		case <-ctx.Done():
			failed++
		}
	}
	gws := map[string]struct{}{}
	for _, k := range keys {
		gws[k.GatewayID] = struct{}{}
	}
	// Failures are tried again by the next sweep.
	d.log.Info("purged the webhook state of dead gateways", slog.Int("gateways", len(gws)),
		slog.Int("keys", len(keys)), slog.Int("failed", failed))
}
