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
	cfg  ReporterConfig
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	dirty   map[ChannelRef]struct{}
	written map[ChannelRef][]byte // what the bucket holds of this gateway
}

// NewReporter returns a Reporter; Run writes.
func NewReporter(cfg ReporterConfig) (*Reporter, error) {
	if cfg.JS == nil || cfg.Snapshot == nil {
		return nil, errors.New("webhook state reporter: JS and Snapshot are required")
	}
	if err := gateways.ValidateGatewayID(cfg.GatewayID); err != nil {
		return nil, fmt.Errorf("webhook state reporter: %w", err)
	}
	if cfg.MarkerTTL < kvttl.MinTTL {
		cfg.MarkerTTL = DefaultMarkerTTL
	}
	cfg.RequestTimeout = defaults.Positive(cfg.RequestTimeout, DefaultRequestTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reporter{
		cfg: cfg, log: cfg.Logger.With(slog.String("gateway_id", cfg.GatewayID)),
		wake:  make(chan struct{}, 1),
		dirty: map[ChannelRef]struct{}{}, written: map[ChannelRef][]byte{},
	}, nil
}

// Mark says this gateway's share of a channel may have changed. It never
// blocks.
func (r *Reporter) Mark(ref ChannelRef) {
	r.mu.Lock()
	r.dirty[ref] = struct{}{}
	r.mu.Unlock()
	signal(r.wake)
}

// Resync writes every key again: the cluster took this gateway for dead
// and may have purged them.
func (r *Reporter) Resync() {
	r.mu.Lock()
	for ref := range r.written {
		r.dirty[ref] = struct{}{}
		r.written[ref] = nil
	}
	r.mu.Unlock()
	signal(r.wake)
}

// Run writes marked channels until ctx is done, then purges every key
// this gateway wrote, so that the cluster sees its channels left at once.
func (r *Reporter) Run(ctx context.Context) {
	delay := minRetry
	for {
		select {
		case <-ctx.Done():
			r.cleanup()
			return
		case <-r.wake:
		}
		for ctx.Err() == nil && !r.round(ctx) {
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
func (r *Reporter) round(ctx context.Context) bool {
	r.mu.Lock()
	dirty := r.dirty
	r.dirty = map[ChannelRef]struct{}{}
	r.mu.Unlock()
	if len(dirty) == 0 {
		return true
	}
	writes := make([]pendingWrite, 0, len(dirty))
	for ref := range dirty {
		v, keep := r.cfg.Snapshot(ref)
		var enc []byte
		if keep {
			enc = v.Encode()
		}
		r.mu.Lock()
		prev, had := r.written[ref]
		r.mu.Unlock()
		if (keep && had && bytes.Equal(prev, enc)) || (!keep && !had) {
			continue
		}
		writes = append(writes, pendingWrite{ref: ref, value: enc})
	}
	return r.write(ctx, writes)
}

// write publishes writes asynchronously and waits for their
// acknowledgements.
func (r *Reporter) write(ctx context.Context, writes []pendingWrite) bool {
	js := r.cfg.JS
	ok := true
	for i := range writes {
		w := &writes[i]
		subject := Key{ChannelRef: w.ref, GatewayID: r.cfg.GatewayID}.subject()
		var m *nats.Msg
		if w.value == nil {
			m = kvttl.Purge(subject, r.cfg.MarkerTTL)
		} else {
			m = &nats.Msg{Subject: subject, Data: w.value}
		}
		ack, err := js.PublishMsgAsync(m)
		if err != nil {
			ok = false
			r.Mark(w.ref)
			continue
		}
		w.ack = ack
	}
	wctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	failed := 0
	for _, w := range writes {
		if w.ack == nil {
			continue
		}
		var err error
		select {
		case <-w.ack.Ok():
		case err = <-w.ack.Err():
		case <-wctx.Done():
			err = wctx.Err()
		}
		if err != nil {
			failed++
			r.Mark(w.ref)
			continue
		}
		r.mu.Lock()
		if w.value == nil {
			delete(r.written, w.ref)
		} else {
			r.written[w.ref] = w.value
		}
		r.mu.Unlock()
	}
	if failed > 0 && ctx.Err() == nil {
		r.log.Warn("webhook state writes failed; retrying", slog.Int("failed", failed), slog.Int("writes", len(writes)))
	}
	return ok && failed == 0
}

// cleanup purges every key this gateway wrote.
func (r *Reporter) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	r.mu.Lock()
	writes := make([]pendingWrite, 0, len(r.written))
	for ref := range r.written {
		writes = append(writes, pendingWrite{ref: ref})
	}
	r.dirty = map[ChannelRef]struct{}{}
	r.mu.Unlock()
	if len(writes) > 0 && !r.write(ctx, writes) {
		r.log.Warn("webhook state not purged at stop; the control plane purges it once this gateway's registry entry expires")
	}
}

// signal does a non-blocking send on a 1-buffered wake-up channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
