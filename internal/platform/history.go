package platform

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/stream"
)

// historyParts are the control plane's history workers, and the master key
// the history API derives its cursor key from.
type historyParts struct {
	masterKey []byte
	writer    *history.Writer
	retention *history.Retention
}

// startHistory builds the history writer of the message stream and the
// retention loop (DESIGN.md §6). Every control plane runs both: the
// writers share one durable consumer, and purges skip each other's rows.
func (p *Platform) startHistory(store *postgres.Store) error {
	w, err := history.NewWriter(history.Config{
		JS: p.parts.js, Sink: store, Stream: stream.StreamName(0), Replicas: p.cfg.NATSReplicas,
		Apps: p.parts.apps, Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
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
	p.parts.history.writer, p.parts.history.retention = w, r
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
