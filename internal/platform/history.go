package platform

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/controlplane/postgres"
)

// historyParts are the control plane's history workers, and the master key
// the history API derives its cursor key from.
type historyParts struct {
	masterKey []byte
	writer    *history.Writer
	retention *history.Retention
	// reader answers the history API: PostgreSQL, and above the writers'
	// watermark the stream.
	reader *history.Reader
}

// startHistory builds the history writer of the message stream and the
// retention loop (docs/architecture.md, "Where state lives"). Every control
// plane runs both: the writers share one durable consumer, and purges skip
// each other's rows.
func (p *Platform) startHistory(store *postgres.Store) error {
	w, err := history.NewWriter(history.Config{
		JS: p.parts.js, Sink: store, Stream: stream.StreamName(0), Replicas: p.cfg.NATSReplicas,
		Apps: p.parts.apps, Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
		AckWait: p.cfg.History.AckWait, MaxWait: p.cfg.History.BatchWait, Concurrency: p.cfg.History.WriteConcurrency,
	})
	if err != nil {
		return err
	}
	mark, err := history.NewWatermark(history.WatermarkConfig{
		JS: p.parts.js, Stream: stream.StreamName(0), Registerer: p.ops.Registry(),
	})
	if err != nil {
		return err
	}
	reader, err := history.NewReader(history.ReaderConfig{
		Store: store, Stream: p.parts.reader, Watermark: mark, StreamName: stream.StreamName(0),
		Apps: p.parts.apps, MaxStreamScan: p.cfg.History.MaxStreamScan,
		// A replicated stream's followers may answer Direct Get before
		// they have applied the newest writes.
		Strict: p.cfg.NATSReplicas > 1,
	})
	if err != nil {
		return err
	}
	r, err := history.NewRetention(history.RetentionConfig{
		Store: store, Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.parts.history.writer, p.parts.history.retention, p.parts.history.reader = w, r, reader
	return nil
}

// runHistory starts the history workers in g, when this process has them.
func (p *Platform) runHistory(ctx context.Context, g *errgroup.Group) {
	h := p.parts.history
	if h.writer == nil {
		return
	}
	g.Go(func() error { return ignoreCanceled(h.writer.Run(ctx), "history writer") })
	g.Go(func() error { return ignoreCanceled(h.retention.Run(ctx), "history retention") })
}
