package webhooks

import (
	"context"
	"time"
)

// prune deletes, every DefaultPruneInterval, finished deliveries older
// than the log retention (in bounded statements) and queued events cut
// long ago.
func (d *Dispatcher) prune(ctx context.Context) error {
	tick := time.NewTicker(DefaultPruneInterval)
	defer tick.Stop()
	for {
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
