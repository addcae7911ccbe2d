package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/defaults"
)

// DefaultGapGrace is how long the published count waits for messages
// missing before a batch (still pending with a folder that died, until
// their ack wait ends) before it reads them from the stream, counting
// past those the stream no longer holds (aged out or deleted).
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
	Batch    int
	Wait     time.Duration
	AckWait  time.Duration
	GapGrace time.Duration
	// Quotas, when set, reports the totals of the accounts each fold
	// touched (quota_report.go).
	Quotas     *QuotaReporter
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
	cfg.Batch = defaults.Positive(cfg.Batch, DefaultFoldBatch)
	cfg.Wait = defaults.Positive(cfg.Wait, DefaultFoldWait)
	cfg.AckWait = defaults.Positive(cfg.AckWait, DefaultFoldAckWait)
	cfg.GapGrace = defaults.Positive(cfg.GapGrace, 3*cfg.AckWait)
	cfg.Replicas = defaults.Positive(cfg.Replicas, meter.DefaultReplicas)
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
		consumer: consumerConfig(meter.PublishedConsumer, "Herald published-message meter", cfg.AckWait,
			cfg.Batch, cfg.Replicas),
		fold: p.fold,
	}
	return p, nil
}

// Run counts until ctx is done, then returns ctx's error.
func (p *PublishedCounter) Run(ctx context.Context) error { return p.f.run(ctx) }

// fold counts one batch. Messages at or below the stream's mark were
// counted already (a batch delivered again). Only the run of serials
// that follows the mark without a hole is counted: messages past a hole
// are handed back, because the messages in the hole are still pending
// with a folder that died and counting past them would move the mark over
// them; once GapGrace has passed, the missing serials are read from the
// stream, and those it no longer holds (aged out, deleted) are counted
// past. Redeliveries can arrive out of order, so the batch is sorted
// first.
func (p *PublishedCounter) fold(ctx context.Context, msgs []jetstream.Msg) (ack, nak []jetstream.Msg, err error) {
	type item struct {
		pub Published
		msg jetstream.Msg
	}
	items := make([]item, 0, len(msgs))
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
		items = append(items, item{Published{Serial: d.Serial, AppID: d.AppID, At: d.Time, Bytes: int64(len(d.Data))}, m})
	}
	if len(items) == 0 {
		return ack, nil, nil
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.pub.Serial, b.pub.Serial) })
	fctx, cancel := context.WithTimeout(ctx, DefaultFoldTimeout)
	defer cancel()
	mark, err := p.cfg.Store.StreamMark(fctx, p.cfg.Stream)
	if err != nil {
		return nil, nil, err
	}
	if mark == 0 {
		// Nothing counted yet: the run starts where the stream does (a
		// stream older than metering is counted from its first message).
		if mark, err = p.streamStart(fctx); err != nil {
			return nil, nil, err
		}
	}
	cut := holeAt(items, mark, func(it item) uint64 { return it.pub.Serial })
	if cut < len(items) {
		now := p.cfg.Now()
		if p.gapSince.IsZero() {
			p.gapSince = now
		}
		if now.Sub(p.gapSince) < p.cfg.GapGrace {
			for _, it := range items[cut:] {
				nak = append(nak, it.msg)
			}
			items = items[:cut]
		} else {
			// A serial missing this long is either gone from the stream
			// (aged out, deleted) or pending elsewhere: delivered to a fetch
			// that had ended, as happens around a consumer leader change,
			// and due again only after its ack wait, possibly never before
			// the next hole. Counting past it would skip it as counted
			// when it comes, so it is read from the stream instead.
			present := make(map[uint64]bool, len(items))
			for _, it := range items {
				present[it.pub.Serial] = true
			}
			read, err := p.readMissing(fctx, mark+1, items[len(items)-1].pub.Serial, present)
			if err != nil {
				return nil, nil, err
			}
			p.cfg.Logger.Warn("published counter read missing serials from the stream", "stream", p.cfg.Stream,
				"mark", mark, "next", items[cut].pub.Serial, "read", len(read))
			for _, pub := range read {
				items = append(items, item{pub: pub})
			}
			slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.pub.Serial, b.pub.Serial) })
			p.gapSince = time.Time{}
		}
	} else {
		p.gapSince = time.Time{}
	}
	pub := make([]Published, len(items))
	for i, it := range items {
		pub[i] = it.pub
		if it.msg != nil { // nil: read from the stream, not delivered
			ack = append(ack, it.msg)
		}
	}
	if len(pub) > 0 {
		n, err := p.cfg.Store.FoldPublished(fctx, p.cfg.Stream, pub)
		if err != nil {
			return nil, nil, err
		}
		p.f.m.folded.Add(float64(n))
		p.f.m.skipped.Add(float64(len(pub) - n))
		p.cfg.Quotas.Report(ctx, appsOf(len(pub), func(yield func(string)) {
			for _, m := range pub {
				yield(m.AppID)
			}
		}))
	}
	return ack, nak, nil
}

// readMissing reads from the stream the serials of [from, to] that are
// not present, as Published; serials the stream no longer holds (aged
// out, deleted) are left out.
func (p *PublishedCounter) readMissing(ctx context.Context, from, to uint64, present map[uint64]bool) ([]Published, error) {
	st, err := p.cfg.JS.Stream(ctx, p.cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", p.cfg.Stream, err)
	}
	var out []Published
	for seq := max(from, st.CachedInfo().State.FirstSeq); seq <= to; seq++ {
		if present[seq] {
			continue
		}
		raw, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stream %s serial %d: %w", p.cfg.Stream, seq, err)
		}
		d, err := stream.DecodeRaw(raw)
		if err != nil {
			// Stored, so published, but not attributable: as in fold.
			p.f.m.skipped.Inc()
			d.AppID = ""
		}
		out = append(out, Published{Serial: seq, AppID: d.AppID, At: d.Time, Bytes: int64(len(d.Data))})
	}
	return out, nil
}

// streamStart is the serial before the stream's first stored message.
func (p *PublishedCounter) streamStart(ctx context.Context) (uint64, error) {
	st, err := p.cfg.JS.Stream(ctx, p.cfg.Stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", p.cfg.Stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", p.cfg.Stream, err)
	}
	return max(info.State.FirstSeq, 1) - 1, nil
}

// holeAt returns the index of the first item, in serial order, that does
// not continue the run from mark: items before it are at or below mark
// or follow it without a hole.
func holeAt[T any](items []T, mark uint64, serial func(T) uint64) int {
	next := mark + 1
	for i, it := range items {
		s := serial(it)
		switch {
		case s < next:
			continue
		case s > next:
			return i
		}
		next = s + 1
	}
	return len(items)
}
