package webhookstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults of ReporterConfig.
const (
	// DefaultRequestTimeout bounds the acknowledgements of one round of
	// writes.
	DefaultRequestTimeout = 5 * time.Second
	// CleanupTimeout bounds purging this gateway's keys when Run stops.
	CleanupTimeout = 5 * time.Second
)

// Snapshot tells a Reporter what this gateway holds of a channel now:
// its Value, and false when it holds nothing the app wants reported (no
// local subscriber, or an app without channel webhooks).
type Snapshot func(ref ChannelRef) (Value, bool)

// ReporterConfig configures a Reporter. JS, GatewayID and Snapshot are
// required.
type ReporterConfig struct {
	// JS writes the bucket, which EnsureBucket must have created.
	JS        jetstream.JetStream
	GatewayID string
	Snapshot  Snapshot
	// MarkerTTL is the TTL of the markers purges leave; below
	// kvttl.MinTTL means DefaultMarkerTTL.
	MarkerTTL      time.Duration
	RequestTimeout time.Duration
	Logger         *slog.Logger
}

// Reporter writes this gateway's share of channels to the bucket: Mark
// says a channel changed, and Run writes what Snapshot then says, once
// per round however many changes a channel had meanwhile, and only if it
// differs from what it last wrote. Writes of one key never overlap, so
// the bucket holds them in the order they were made.
type Reporter struct {
	w *keyWriter
}

// NewReporter returns a Reporter; Run writes.
func NewReporter(cfg ReporterConfig) (*Reporter, error) {
	if cfg.JS == nil || cfg.Snapshot == nil {
		return nil, errors.New("webhook state reporter: JS and Snapshot are required")
	}
	if err := gateways.ValidateGatewayID(cfg.GatewayID); err != nil {
		return nil, fmt.Errorf("webhook state reporter: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reporter{w: newKeyWriter(keyWriterConfig{
		JS: cfg.JS, MarkerTTL: cfg.MarkerTTL, RequestTimeout: cfg.RequestTimeout,
		Logger:  cfg.Logger.With(slog.String("gateway_id", cfg.GatewayID)),
		Subject: func(ref ChannelRef) string { return Key{ChannelRef: ref, GatewayID: cfg.GatewayID}.subject() },
		Snapshot: func(ref ChannelRef) ([]byte, bool) {
			v, keep := cfg.Snapshot(ref)
			if !keep {
				return nil, false
			}
			return v.Encode(), true
		},
	})}, nil
}

// Mark says this gateway's share of a channel may have changed. It never
// blocks.
func (r *Reporter) Mark(ref ChannelRef) { r.w.Mark(ref) }

// Resync writes every key again: the cluster took this gateway for dead
// and may have purged them.
func (r *Reporter) Resync() { r.w.Resync() }

// Run writes marked channels until ctx is done, then purges every key
// this gateway wrote, so that the cluster sees its channels left at once.
func (r *Reporter) Run(ctx context.Context) {
	r.w.run(ctx)
	if !r.w.purgeAll() {
		r.w.log.Warn("webhook state not purged at stop; the control plane purges it once this gateway's registry entry expires")
	}
}

// keyWriterConfig configures a keyWriter; JS, Subject and Snapshot are
// required.
type keyWriterConfig struct {
	JS jetstream.JetStream
	// Subject is the KV subject of a channel's key.
	Subject func(ChannelRef) string
	// Snapshot is the value a channel's key must hold now, or false when
	// it must not exist.
	Snapshot       func(ChannelRef) ([]byte, bool)
	MarkerTTL      time.Duration
	RequestTimeout time.Duration
	Logger         *slog.Logger
}

// keyWriter keeps one KV key per channel equal to what Snapshot says, for
// the channels marked: the Reporter's keys and the Decider's reported
// view.
type keyWriter struct {
	cfg  keyWriterConfig
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	dirty   map[ChannelRef]struct{}
	written map[ChannelRef][]byte // what the bucket holds
}

func newKeyWriter(cfg keyWriterConfig) *keyWriter {
	if cfg.MarkerTTL < kvttl.MinTTL {
		cfg.MarkerTTL = DefaultMarkerTTL
	}
	cfg.RequestTimeout = defaults.Positive(cfg.RequestTimeout, DefaultRequestTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &keyWriter{
		cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1),
		dirty: map[ChannelRef]struct{}{}, written: map[ChannelRef][]byte{},
	}
}

// Mark says a channel's key may have to change. It never blocks.
func (w *keyWriter) Mark(ref ChannelRef) {
	w.mu.Lock()
	w.dirty[ref] = struct{}{}
	w.mu.Unlock()
	signal(w.wake)
}

// Resync writes every key written so far again.
func (w *keyWriter) Resync() {
	w.mu.Lock()
	for ref := range w.written {
		w.dirty[ref] = struct{}{}
		w.written[ref] = nil
	}
	w.mu.Unlock()
	signal(w.wake)
}

// Known records what the bucket holds of a channel already (a value
// loaded at start), so that an equal snapshot is not written again.
func (w *keyWriter) Known(ref ChannelRef, value []byte) {
	w.mu.Lock()
	w.written[ref] = value
	w.mu.Unlock()
}

// run writes marked channels until ctx is done.
func (w *keyWriter) run(ctx context.Context) {
	delay := minRetry
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		for ctx.Err() == nil && !w.round(ctx) {
			if !backoff.Sleep(ctx, backoff.Jitter(delay)) {
				break
			}
			delay = min(2*delay, maxRetry)
		}
		delay = minRetry
	}
}

// pendingWrite is one key's write in a round.
type pendingWrite struct {
	ref   ChannelRef
	value []byte // nil: purge
	ack   jetstream.PubAckFuture
}

// round writes the channels marked so far and reports whether every write
// succeeded; the failed ones are marked again.
func (w *keyWriter) round(ctx context.Context) bool {
	w.mu.Lock()
	dirty := w.dirty
	w.dirty = map[ChannelRef]struct{}{}
	w.mu.Unlock()
	if len(dirty) == 0 {
		return true
	}
	writes := make([]pendingWrite, 0, len(dirty))
	for ref := range dirty {
		enc, keep := w.cfg.Snapshot(ref)
		w.mu.Lock()
		prev, had := w.written[ref]
		w.mu.Unlock()
		if (keep && had && bytes.Equal(prev, enc)) || (!keep && !had) {
			continue
		}
		if !keep {
			enc = nil
		}
		writes = append(writes, pendingWrite{ref: ref, value: enc})
	}
	return w.write(ctx, writes)
}

// write publishes writes asynchronously and waits for their
// acknowledgements.
func (w *keyWriter) write(ctx context.Context, writes []pendingWrite) bool {
	js := w.cfg.JS
	ok := true
	for i := range writes {
		pw := &writes[i]
		subject := w.cfg.Subject(pw.ref)
		var m *nats.Msg
		if pw.value == nil {
			m = kvttl.Purge(subject, w.cfg.MarkerTTL)
		} else {
			m = &nats.Msg{Subject: subject, Data: pw.value}
		}
		ack, err := js.PublishMsgAsync(m)
		if err != nil {
			ok = false
			w.Mark(pw.ref)
			continue
		}
		pw.ack = ack
	}
	wctx, cancel := context.WithTimeout(ctx, w.cfg.RequestTimeout)
	defer cancel()
	failed := 0
	for _, pw := range writes {
		if pw.ack == nil {
			continue
		}
		var err error
		select {
		case <-pw.ack.Ok():
		case err = <-pw.ack.Err():
		case <-wctx.Done():
			err = wctx.Err()
		}
		if err != nil {
			failed++
			w.Mark(pw.ref)
			continue
		}
		w.mu.Lock()
		if pw.value == nil {
			delete(w.written, pw.ref)
		} else {
			w.written[pw.ref] = pw.value
		}
		w.mu.Unlock()
	}
	if failed > 0 && ctx.Err() == nil {
		w.log.Warn("webhook state writes failed; retrying", slog.Int("failed", failed), slog.Int("writes", len(writes)))
	}
	return ok && failed == 0
}

// flush writes what is marked, within CleanupTimeout.
func (w *keyWriter) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	if !w.round(ctx) {
		w.log.Warn("webhook state not all written at stop")
	}
}

// purgeAll purges every key written, within CleanupTimeout, and reports
// whether it succeeded.
func (w *keyWriter) purgeAll() bool {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	w.mu.Lock()
	writes := make([]pendingWrite, 0, len(w.written))
	for ref := range w.written {
		writes = append(writes, pendingWrite{ref: ref})
	}
	w.dirty = map[ChannelRef]struct{}{}
	w.mu.Unlock()
	return len(writes) == 0 || w.write(ctx, writes)
}

// signal does a non-blocking send on a 1-buffered wake-up channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
