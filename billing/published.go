package billing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/bus/stream"
)

// DefaultGapGrace is how long the published count waits for messages
// missing before a batch (still pending with a folder that died, until
// their ack wait ends) before it counts past them as gone (aged out of
// the stream).
const DefaultGapGrace = 3 * DefaultFoldAckWait

// PublishedConfig configures a PublishedCounter. JS and Store are
// required.
type PublishedConfig struct {
	JS    jetstream.JetStream
	Store Store
	// Stream is the message stream counted; empty means shard 0's.
	Stream   string
	Replicas int
	// Batch is both the fetch size and the consumer's MaxAckPending: at
	// most one batch is in flight cluster-wide, so batches fold in
	// stream order and the stream's mark says exactly what is counted.
	Batch      int
	Wait       time.Duration
	AckWait    time.Duration
	GapGrace   time.Duration
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock of GapGrace; nil means time.Now.
	Now func() time.Time
}

// PublishedCounter counts messages_published and bytes_in from a message
// stream: every accepted publish is one stream message, and deduplicated
// or refused publishes never are, so counting the stream is the rule,
// and no process crash can lose a count. Every control plane runs one per
// stream; they share the durable consumer.
type PublishedCounter struct {
	cfg PublishedConfig
	f   folder
	// gapSince is when a batch was first seen to start past the mark.
	gapSince time.Time
}

// NewPublishedCounter returns a PublishedCounter; it touches neither NATS
// nor the Store.
func NewPublishedCounter(cfg PublishedConfig) (*PublishedCounter, error) {
	if cfg.JS == nil || cfg.Store == nil {
		return nil, errors.New("published counter: JS and Store are required")
	}
	if cfg.Stream == "" {
		cfg.Stream = stream.StreamName(0)
	}
	cfg.Batch = positive(cfg.Batch, DefaultFoldBatch)
	cfg.Wait = positive(cfg.Wait, DefaultFoldWait)
	cfg.AckWait = positive(cfg.AckWait, DefaultFoldAckWait)
	cfg.GapGrace = positive(cfg.GapGrace, 3*cfg.AckWait)
	cfg.Replicas = positive(cfg.Replicas, meter.DefaultReplicas)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newFoldMetrics(cfg.Registerer, "published", prometheus.Labels{"stream": cfg.Stream})
	if err != nil {
		return nil, err
	}
	p := &PublishedCounter{cfg: cfg}
	p.f = folder{
		js: cfg.JS, stream: cfg.Stream, batch: cfg.Batch, wait: cfg.Wait, log: cfg.Logger, m: m,
		consumer: jetstream.ConsumerConfig{
			Durable:       meter.PublishedConsumer,
			Description:   "Herald published-message meter",
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       cfg.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: cfg.Batch,
			Replicas:      cfg.Replicas,
		},
		fold: p.fold,
	}
	return p, nil
}

// Run counts until ctx is done, then returns ctx's error.
func (p *PublishedCounter) Run(ctx context.Context) error { return p.f.run(ctx) }

// fold counts one batch. Messages at or below the stream's mark were
// counted already (a batch delivered again). A batch that starts past
// mark+1 is handed back until GapGrace passed: the messages between are
// still pending with a folder that died, and counting past them would
// move the mark over them.
func (p *PublishedCounter) fold(ctx context.Context, msgs []jetstream.Msg) (ack, nak []jetstream.Msg, err error) {
	pub := make([]Published, 0, len(msgs))
	keep := msgs[:0:0]
	for _, m := range msgs {
		d, err := stream.DecodeConsumed(m)
		if d.Serial == 0 {
			// No metadata: not a stream delivery at all.
			p.f.m.skipped.Inc()
			ack = append(ack, m)
			continue
		}
		if err != nil {
			// Stored, so published, but not attributable to an app: it
			// moves the mark and counts nowhere.
			p.f.m.skipped.Inc()
			p.cfg.Logger.Warn("published counter skips a malformed message", "serial", d.Serial, "err", err)
			d.AppID = ""
		}
		pub = append(pub, Published{Serial: d.Serial, AppID: d.AppID, At: d.Time, Bytes: int64(len(d.Data))})
		keep = append(keep, m)
	}
	if len(pub) == 0 {
		return ack, nil, nil
	}
	fctx, cancel := context.WithTimeout(ctx, DefaultFoldTimeout)
	defer cancel()
	mark, err := p.cfg.Store.StreamMark(fctx, p.cfg.Stream)
	if err != nil {
		return nil, nil, err
	}
	if first := firstAbove(pub, mark); mark > 0 && first > mark+1 {
		now := p.cfg.Now()
		if p.gapSince.IsZero() {
			p.gapSince = now
		}
		if now.Sub(p.gapSince) < p.cfg.GapGrace {
			return ack, keep, nil
		}
		p.cfg.Logger.Warn("published counter counts past missing serials", "stream", p.cfg.Stream, "from", mark+1, "to", first-1)
	}
	p.gapSince = time.Time{}
	n, err := p.cfg.Store.FoldPublished(fctx, p.cfg.Stream, pub)
	if err != nil {
		return nil, nil, err
	}
	p.f.m.folded.Add(float64(n))
	p.f.m.skipped.Add(float64(len(pub) - n))
	return append(ack, keep...), nil, nil
}

// firstAbove returns the first serial of pub above mark (0: none).
func firstAbove(pub []Published, mark uint64) uint64 {
	for _, m := range pub {
		if m.Serial > mark {
			return m.Serial
		}
	}
	return 0
}
