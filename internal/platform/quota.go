package platform

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/postgres"
)

// quotaParts are the process's quota enforcement (docs/billing.md,
// "Quotas and enforcement"): the watched account totals and the enforcer
// the gateway and the REST API check publishes with.
type quotaParts struct {
	kv       jetstream.KeyValue
	totals   *quota.Cache
	enforcer *billing.Enforcer
}

// startQuotas ensures the totals bucket and builds the cache and the
// enforcer; the meter, when on, lends the enforcer this process's
// unflushed deliveries.
func (p *Platform) startQuotas(ctx context.Context) error {
	kv, err := ensureBucket(ctx, p.cfg.Logger, "quota totals bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return quota.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas)
	})
	if err != nil {
		return fmt.Errorf("quota totals bucket: %w", err)
	}
	p.parts.quota.kv = kv
	p.parts.quota.totals = quota.NewCache(quota.CacheConfig{JS: p.parts.js, Logger: p.cfg.Logger})
	e, err := billing.NewEnforcer(billing.EnforcerConfig{
		Totals: p.parts.quota.totals, Meter: p.parts.meter.meter, Now: p.cfg.Metering.QuotaClock,
		Registerer: p.ops.Registry(), AppLabels: p.cfg.MetricsAppLabels,
	})
	if err != nil {
		return err
	}
	p.parts.quota.enforcer = e
	return nil
}

// newQuotaReporter is the control plane's side: after each fold, the
// totals of the accounts it touched go to the bucket, and the 80% and
// 100% crossings are recorded, audited and announced on NATS.
func (p *Platform) newQuotaReporter(store *postgres.Store) (*billing.QuotaReporter, error) {
	return billing.NewQuotaReporter(billing.QuotaReporterConfig{
		Store: store,
		Put: func(ctx context.Context, accountID string, e quota.Entry) error {
			return quota.Put(ctx, p.parts.quota.kv, accountID, e)
		},
		Apps: p.parts.apps.App,
		Publish: func(_ context.Context, subject string, data []byte) error {
			return p.parts.nc.Publish(subject, data)
		},
		Webhook: func(ctx context.Context, accountID string, timeMS int64, ev channels.WebhookEvent, msgID string) error {
			return webhookevents.PublishOperator(ctx, p.parts.js, accountID, timeMS, ev, msgID)
		},
		Now: p.cfg.Metering.QuotaClock, Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
}
