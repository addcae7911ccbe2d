package platform

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
)

// webhookSourceParts are where the process's webhook events come from
// (docs/architecture.md, "Webhook events"): a gateway reports its
// channels and publishes client_event and cache_miss through its
// emitter; a control plane decides the cluster-wide transitions.
type webhookSourceParts struct {
	emitter  *webhookstate.Emitter
	reporter *webhookstate.Reporter
	decider  *webhookstate.Decider
}

// gatewayWebhookQueue bounds the client_event and cache_miss webhooks a
// gateway holds while JetStream does not take them: client events carry
// up to max_message_bytes each, so the decider's larger default would
// allow gigabytes.
const gatewayWebhookQueue = 100_000

// startWebhookSources ensures the webhook event stream and the webhook
// state buckets and builds a gateway's emitter; the reporter and the
// decider are built by startGateway and startControlPlane.
func (p *Platform) startWebhookSources(ctx context.Context) error {
	if err := retryStartup(ctx, p.cfg.Logger, "webhook event stream", func(ctx context.Context) error {
		return webhookevents.EnsureStream(ctx, p.parts.js, webhookevents.StreamConfig{Replicas: p.cfg.NATSReplicas})
	}); err != nil {
		return fmt.Errorf("webhook event stream: %w", err)
	}
	if err := retryStartup(ctx, p.cfg.Logger, "webhook state buckets", func(ctx context.Context) error {
		return webhookstate.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas, 0)
	}); err != nil {
		return fmt.Errorf("webhook state bucket: %w", err)
	}
	if p.cfg.Mode == ModeControlPlane {
		return nil // the decider publishes through an emitter of its own
	}
	em, err := webhookstate.NewEmitter(webhookstate.EmitterConfig{
		JS: p.parts.js, MaxQueue: gatewayWebhookQueue, Source: "gateway", Registerer: p.ops.Registry(),
		Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.parts.webhookSources.emitter = em
	return nil
}

// newWebhookReporter builds the gateway's reporter of its channels.
func (p *Platform) newWebhookReporter(gatewayID string) error {
	r, err := webhookstate.NewReporter(webhookstate.ReporterConfig{
		JS: p.parts.js, GatewayID: gatewayID, Logger: p.cfg.Logger,
		Snapshot: func(ref webhookstate.ChannelRef) (webhookstate.Value, bool) {
			// Set before the reporter runs (runBackground), so no race.
			if gw := p.parts.gateway; gw != nil {
				return gw.WebhookSnapshot(ref)
			}
			return webhookstate.Value{}, false
		},
	})
	if err != nil {
		return err
	}
	p.parts.webhookSources.reporter = r
	return nil
}

// newWebhookDecider builds the control plane's decider: events of the
// kinds an app's endpoints want (its config's WebhookEvents), from the
// app config cache.
func (p *Platform) newWebhookDecider() error {
	d, err := webhookstate.NewDecider(webhookstate.DeciderConfig{
		JS: p.parts.js,
		Wants: func(appID string, kind channels.WebhookEventName) bool {
			app, ok := p.parts.apps.App(appID)
			return ok && slices.Contains(app.WebhookEvents, kind)
		},
		LeaveDelay: p.cfg.WebhookSources.LeaveDelay, CountInterval: p.cfg.WebhookSources.CountInterval,
		Settle: p.cfg.WebhookSources.Settle, Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.parts.webhookSources.decider = d
	return nil
}

// runWebhookSources runs the emitter, the reporter and the decider in g.
func (p *Platform) runWebhookSources(ctx context.Context, g *errgroup.Group) {
	w := p.parts.webhookSources
	if w.emitter != nil {
		g.Go(func() error { w.emitter.Run(ctx); return nil })
	}
	if w.reporter != nil {
		g.Go(func() error { w.reporter.Run(ctx); return nil })
	}
	if w.decider != nil {
		g.Go(func() error { return ignoreCanceled(w.decider.Run(ctx), "webhook decider") })
	}
}
