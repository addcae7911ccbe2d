package webhooks

import (
	"context"
	"time"
)

// prune deletes, every DefaultPruneInterval, finished deliveries older
// than the log retention (in bounded statements) and queued events cut
// long ago, and records what disabled endpoints still have queued.
func (d *Dispatcher) prune(ctx context.Context) error {
	tick := time.NewTicker(DefaultPruneInterval)
	defer tick.Stop()
	for {
		d.settleDisabled(ctx)
		if _, err := d.store.PruneWebhookQueue(ctx, time.Now().Add(-max(queueKeep, 10*d.cfg.AckWait))); err != nil && ctx.Err() == nil {
			d.log.Warn("webhook queue pruning failed", "err", err)
		}
		before := time.Now().Add(-d.cfg.LogRetention)
		for ctx.Err() == nil {
			n, err := d.store.PruneWebhookDeliveries(ctx, before, DefaultPruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Warn("webhook log pruning failed", "err", err)
				}
				break
			}
			if n < DefaultPruneBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// settleDisabled records the events still queued for disabled endpoints
// as failed deliveries: the rest of a long backlog after a disable, or
// what a control plane that stopped meanwhile left.
func (d *Dispatcher) settleDisabled(ctx context.Context) {
	if err := d.store.SettleDisabledWebhookEndpoints(ctx); err != nil && ctx.Err() == nil {
		d.log.Warn("recording disabled webhook endpoints' queued events failed; retrying in a minute", "err", err)
	}
}
