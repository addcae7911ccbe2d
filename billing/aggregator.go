package billing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero AggregatorConfig fields.
const (
	// DefaultFlushBatch is the most flushes folded in one transaction.
	DefaultFlushBatch = 200
	// DefaultFlushMaxAckPending caps the flushes delivered and not yet
	// acknowledged across every control plane.
	DefaultFlushMaxAckPending = 2000
	// DefaultForgetInterval is how often folded flush ids older than the
	// flush stream's retention are removed.
	DefaultForgetInterval = time.Hour
)

// AggregatorConfig configures an Aggregator. JS and Store are required.
type AggregatorConfig struct {
	JS    jetstream.JetStream
	Store Store
	// Replicas is the consumer's replica count: the platform's NATS
	// replicas.
	Replicas int
	Batch    int
	Wait     time.Duration
	AckWait  time.Duration
	// Retention is the flush stream's MaxAge: folded flush ids are kept
	// twice as long, so that no copy of a flush outlives its record.
	Retention      time.Duration
	ForgetInterval time.Duration
	// Quotas, when set, reports the totals of the accounts each fold
	// touched (quota_report.go).
	Quotas     *QuotaReporter
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Aggregator folds every process's meter flushes into the Store, each
// once. Every control plane runs one; they share the durable consumer.
type Aggregator struct {
	cfg AggregatorConfig
	f   folder
}

// NewAggregator returns an Aggregator; it touches neither NATS nor the
// Store.
func NewAggregator(cfg AggregatorConfig) (*Aggregator, error) {
	if cfg.JS == nil || cfg.Store == nil {
		return nil, errors.New("meter aggregator: JS and Store are required")
	}
	cfg.Batch = defaults.Positive(cfg.Batch, DefaultFlushBatch)
	cfg.Wait = defaults.Positive(cfg.Wait, DefaultFoldWait)
	cfg.AckWait = defaults.Positive(cfg.AckWait, DefaultFoldAckWait)
	cfg.Retention = defaults.Positive(cfg.Retention, meter.DefaultMaxAge)
	cfg.ForgetInterval = defaults.Positive(cfg.ForgetInterval, DefaultForgetInterval)
	cfg.Replicas = defaults.Positive(cfg.Replicas, meter.DefaultReplicas)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newFoldMetrics(cfg.Registerer, "flush", nil)
	if err != nil {
		return nil, err
	}
	a := &Aggregator{cfg: cfg}
	a.f = folder{
		js: cfg.JS, stream: meter.Stream, batch: cfg.Batch, wait: cfg.Wait, log: cfg.Logger, m: m,
		consumer: consumerConfig(meter.FlushConsumer, "Herald meter flush aggregator", cfg.AckWait,
			max(DefaultFlushMaxAckPending, cfg.Batch), cfg.Replicas),
		fold: a.fold,
	}
	return a, nil
}

// Run folds flushes, and forgets old flush ids, until ctx is done.
func (a *Aggregator) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.f.run(ctx) })
	g.Go(func() error { a.forget(ctx); return nil })
	return g.Wait()
}

// fold folds one batch of flushes in one transaction; malformed ones are
// acknowledged and logged, never retried.
func (a *Aggregator) fold(ctx context.Context, msgs []jetstream.Msg) (ack, nak []jetstream.Msg, err error) {
	flushes := make([]Flush, 0, len(msgs))
	for _, m := range msgs {
		f, err := DecodeFlush(m.Data())
		if err != nil {
			a.f.m.skipped.Inc()
			a.cfg.Logger.Warn("meter aggregator skips a malformed flush", "subject", m.Subject(), "err", err)
			continue
		}
		flushes = append(flushes, f)
	}
	if len(flushes) > 0 {
		fctx, cancel := context.WithTimeout(ctx, DefaultFoldTimeout)
		n, err := a.cfg.Store.FoldFlushes(fctx, flushes)
		cancel()
		if err != nil {
			return nil, nil, err
		}
		a.f.m.folded.Add(float64(n))
		a.f.m.skipped.Add(float64(len(flushes) - n))
		a.cfg.Quotas.Report(ctx, appsOf(len(flushes), func(yield func(string)) {
			for _, f := range flushes {
				for _, u := range f.Apps {
					yield(u.AppID)
				}
			}
		}))
	}
	return msgs, nil, nil
}

// forget removes folded flush ids past twice the stream's retention,
// every ForgetInterval.
func (a *Aggregator) forget(ctx context.Context) {
	t := time.NewTicker(a.cfg.ForgetInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fctx, cancel := context.WithTimeout(ctx, DefaultFoldTimeout)
		if _, err := a.cfg.Store.ForgetFlushes(fctx, time.Now().Add(-2*a.cfg.Retention)); err != nil && ctx.Err() == nil {
			a.cfg.Logger.Warn("meter aggregator could not forget old flushes", "err", err)
		}
		cancel()
	}
}
