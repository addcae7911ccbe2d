package platform

import (
	"context"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// WebhooksConfig tunes the webhook dispatcher (docs/webhooks.md); zero
// fields take the defaults of controlplane/webhooks.
type WebhooksConfig struct {
	// AllowPrivate lets endpoints reach loopback, private and link-local
	// addresses (--webhook-allow-private, on in dev mode).
	AllowPrivate bool
	Timeout      time.Duration
	RetryWindow  time.Duration
	DisableAfter time.Duration
	LogRetention time.Duration
	// AckWait is how long events held by a control plane that died wait
	// before another takes them (--webhook-ack-wait).
	AckWait time.Duration
	// FirstRetry, MaxRetry, BatchGap and PollInterval are for tests.
	FirstRetry   time.Duration
	MaxRetry     time.Duration
	BatchGap     time.Duration
	PollInterval time.Duration
}

// startWebhooks builds the control plane's webhook dispatcher; every
// control plane runs one, sharing the consumer and the endpoints.
func (p *Platform) startWebhooks(store *postgres.Store) error {
	c := p.cfg.Webhooks
	d, err := webhooks.New(webhooks.Config{
		JS: p.parts.js, Store: store, Publisher: p.parts.syncer, Meter: p.parts.meter.meter,
		Replicas: p.cfg.NATSReplicas, Version: buildVersion(), AllowPrivate: c.AllowPrivate,
		Timeout: c.Timeout, RetryWindow: c.RetryWindow, DisableAfter: c.DisableAfter, LogRetention: c.LogRetention,
		AckWait:    c.AckWait,
		FirstRetry: c.FirstRetry, MaxRetry: c.MaxRetry, BatchGap: c.BatchGap, PollInterval: c.PollInterval,
		Debug: p.parts.debug.publisher, Registerer: p.ops.Registry(), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	p.parts.webhooks = d
	return nil
}

// runWebhooks starts the dispatcher in g, when this process has one.
func (p *Platform) runWebhooks(ctx context.Context, g *errgroup.Group) {
	if d := p.parts.webhooks; d != nil {
		g.Go(func() error { return ignoreCanceled(d.Run(ctx), "webhook dispatcher") })
	}
}

// buildVersion is the module version recorded in the binary, "dev" for a
// build from a checkout.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || strings.HasPrefix(bi.Main.Version, "(") {
		return webhooks.DefaultVersion
	}
	return bi.Main.Version
}
