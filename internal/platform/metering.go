package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane/postgres"
)

// meterParts are the process's usage metering (docs/billing.md): its
// meter and flusher, and on a control plane the two aggregators.
type meterParts struct {
	meter     *billing.Meter
	flusher   *billing.Flusher
	flushes   *billing.Aggregator
	published *billing.PublishedCounter
	// reporter puts the quota totals, after folds and when a plan
	// changes (the admin API).
	reporter *billing.QuotaReporter
}

// meterIDBytes is the random part of a process's meter id.
const meterIDBytes = 6

// startMeter ensures the flush stream and builds the process's meter and
// flusher; the gateway and the API count into the meter. Nothing when
// metering is off.
func (p *Platform) startMeter(ctx context.Context) error {
	if p.cfg.Metering.Off {
		return nil
	}
	if err := retryStartup(ctx, p.cfg.Logger, "meter stream", func(ctx context.Context) error {
		return meter.EnsureStream(ctx, p.parts.js, meter.StreamConfig{Replicas: p.cfg.NATSReplicas})
	}); err != nil {
		return fmt.Errorf("meter stream: %w", err)
	}
	b := make([]byte, meterIDBytes)
	_, _ = rand.Read(b)
	process := p.modeName() + "-" + hex.EncodeToString(b)
	m := billing.NewMeter(nil)
	f, err := billing.NewFlusher(billing.FlusherConfig{
		Meter: m, Process: process, Interval: p.cfg.Metering.FlushInterval,
		Publish: func(ctx context.Context, id string, payload []byte) error {
			return meter.Publish(ctx, p.parts.js, process, id, payload)
		},
		Sample: func(appID string, local int64) int64 {
			// Set before the flusher runs (runBackground), so no race.
			if gw := p.parts.gateway; gw != nil {
				return gw.ConnSample(appID, local)
			}
			return local
		},
		Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.parts.meter.meter, p.parts.meter.flusher = m, f
	return nil
}

// startAggregators builds the control plane's folders: meter flushes and
// the published count of the message stream.
func (p *Platform) startAggregators(store *postgres.Store) error {
	if p.cfg.Metering.Off {
		return nil
	}
	reporter, err := p.newQuotaReporter(store)
	if err != nil {
		return err
	}
	agg, err := billing.NewAggregator(billing.AggregatorConfig{
		JS: p.parts.js, Store: store, Replicas: p.cfg.NATSReplicas, Wait: p.cfg.Metering.FoldWait,
		AckWait: p.cfg.Metering.AckWait, Quotas: reporter,
		Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	pub, err := billing.NewPublishedCounter(billing.PublishedConfig{
		JS: p.parts.js, Store: store, Stream: stream.StreamName(0), Replicas: p.cfg.NATSReplicas,
		Wait: p.cfg.Metering.FoldWait, AckWait: p.cfg.Metering.AckWait, Quotas: reporter,
		Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.parts.meter.flushes, p.parts.meter.published, p.parts.meter.reporter = agg, pub, reporter
	return nil
}

// runMeter starts the flusher and the aggregators in g.
func (p *Platform) runMeter(ctx context.Context, g *errgroup.Group) {
	mp := p.parts.meter
	if mp.flusher != nil {
		g.Go(func() error { mp.flusher.Run(ctx); return nil })
	}
	if mp.flushes != nil {
		g.Go(func() error { return ignoreCanceled(mp.flushes.Run(ctx), "meter aggregator") })
		g.Go(func() error { return ignoreCanceled(mp.published.Run(ctx), "published counter") })
	}
}

// finalMeterFlush publishes what was counted since the last flush, once
// the HTTP server and the gateway's connections have stopped, so that a
// graceful stop loses nothing. A killed process skips it, as a crash
// would.
func (p *Platform) finalMeterFlush() {
	f := p.parts.meter.flusher
	if f == nil || p.killed.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(p.cfg.ShutdownTimeout, finalFlushTimeout))
	defer cancel()
	if err := f.Flush(ctx); err != nil {
		p.cfg.Logger.Warn("final meter flush failed: the last interval's usage is lost", "err", err)
	}
}

// finalFlushTimeout bounds the last flush at shutdown.
const finalFlushTimeout = 5 * time.Second
