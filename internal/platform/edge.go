package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/bus/conncount"
	"github.com/heraldhq/herald/bus/signingkeys"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/backoff"
)

// gatewayIDBytes is the entropy of a generated gateway id.
const gatewayIDBytes = 6

// startMessaging sets up what both the gateway and the control plane use
// to move messages: the stream, the publisher, the reader, the app config
// cache and the cache-channel store.
func (p *Platform) startMessaging(ctx context.Context) error {
	if err := retryStartup(ctx, p.cfg.Logger, "message stream", func(ctx context.Context) error {
		return stream.Ensure(ctx, p.parts.js, stream.StreamConfig{
			Replicas: p.cfg.NATSReplicas, MaxAge: p.cfg.Gateway.StreamMaxAge,
		})
	}); err != nil {
		return fmt.Errorf("message stream: %w", err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: p.parts.js, Logger: p.cfg.Logger})
	if err != nil {
		return err
	}
	p.parts.publisher = pub
	reader, err := stream.NewReader(stream.ReaderConfig{NC: p.parts.nc})
	if err != nil {
		return err
	}
	p.parts.reader = reader
	cache, err := ensureBucket(ctx, p.cfg.Logger, "cache bucket", func(ctx context.Context) (*cachechan.Store, error) {
		return cachechan.Open(ctx, p.parts.js, p.cfg.NATSReplicas)
	})
	if err != nil {
		return err
	}
	p.parts.cache = cache
	if _, err := ensureBucket(ctx, p.cfg.Logger, "app config bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return appconfig.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas)
	}); err != nil {
		return fmt.Errorf("app config bucket: %w", err)
	}
	p.parts.apps = appconfig.NewCache(appconfig.CacheConfig{
		JS: p.parts.js, Logger: p.cfg.Logger,
		OnChange: func(appID string) {
			// Set before the cache runs (runEdge), so no race.
			if gw := p.parts.gateway; gw != nil {
				gw.AppChanged(appID)
			}
		},
	})
	if _, err := ensureBucket(ctx, p.cfg.Logger, "signing key bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return signingkeys.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas)
	}); err != nil {
		return fmt.Errorf("signing key bucket: %w", err)
	}
	p.parts.signingKeys = signingkeys.NewCache(signingkeys.CacheConfig{
		JS: p.parts.js, Logger: p.cfg.Logger,
		OnChange: func(kid string) {
			// Set before the cache runs (runEdge), so no race.
			if gw := p.parts.gateway; gw != nil {
				gw.SigningKeyChanged(kid)
			}
		},
	})
	return nil
}

// startupRetryWindow is how long start-up keeps retrying JetStream set-up
// calls: a cluster that is still electing leaders (every node restarted
// at once, or a loaded machine) answers them late.
const startupRetryWindow = 60 * time.Second

// retryStartup runs fn until it succeeds, ctx ends or the window passes,
// with jittered, doubling pauses.
func retryStartup(ctx context.Context, log *slog.Logger, what string, fn func(context.Context) error) error {
	deadline := time.Now().Add(startupRetryWindow)
	wait := 100 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		log.Warn("start-up step failed; retrying", "step", what, "err", err)
		if !backoff.Sleep(ctx, backoff.Jitter(wait)) {
			return err
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// startGateway builds the edge gateway and its presence store.
func (p *Platform) startGateway(ctx context.Context) error {
	id := p.cfg.GatewayID
	if id == "" {
		b := make([]byte, gatewayIDBytes)
		_, _ = rand.Read(b)
		id = "gw-" + hex.EncodeToString(b)
	}
	p.gatewayID = id
	// presence.New ensures its buckets too; done here first, with
	// retries, it finds them in place.
	if err := retryStartup(ctx, p.cfg.Logger, "presence buckets", func(ctx context.Context) error {
		return presence.EnsureBuckets(ctx, p.parts.js, p.cfg.NATSReplicas, 0)
	}); err != nil {
		return fmt.Errorf("presence buckets: %w", err)
	}
	pres, err := presence.New(ctx, presence.Config{
		// Roster subscriptions are live traffic: they share the live
		// connection, away from the JetStream writes.
		JS: p.parts.js, NC: p.parts.liveNC, GatewayID: id, Replicas: p.cfg.NATSReplicas,
		MaxUserInfoBytes: channels.MaxUserInfoBytesUB, Addr: p.cfg.Addr,
		MemberTTL: p.cfg.Gateway.MemberTTL, GatewayTTL: p.cfg.Gateway.GatewayTTL,
		HeartbeatInterval: p.cfg.Gateway.HeartbeatInterval, Logger: p.cfg.Logger,
		OnLost: func() {
			// Taken for dead: the control plane may have purged this
			// gateway's webhook state. Set before presence runs.
			if r := p.parts.webhookSources.reporter; r != nil {
				r.Resync()
			}
		},
	})
	if err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	if err := p.newWebhookReporter(id); err != nil {
		return err
	}
	p.parts.presence = pres
	counter, err := p.newConnCounter(ctx, pres)
	if err != nil {
		return err
	}
	p.parts.connCount = counter
	gw, err := gateway.New(gateway.Config{
		GatewayID: id, Apps: p.parts.apps, Box: p.box, Publisher: p.parts.publisher,
		LiveNC: p.parts.liveNC, Reader: p.parts.reader, Presence: pres, Cache: p.parts.cache,
		SigningKeys:           p.parts.signingKeys,
		ClusterConns:          counter,
		WebhookState:          p.parts.webhookSources.reporter,
		WebhookEvents:         p.parts.webhookSources.emitter,
		Debug:                 p.parts.debug.publisher,
		PathPrefix:            p.cfg.WSPathPrefix,
		SendQueueBytes:        p.cfg.Gateway.SendQueueBytes,
		PongTimeout:           p.cfg.Gateway.PongTimeout,
		MaxClientMessageBytes: p.cfg.Gateway.MaxClientMessageBytes,
		FrameReadTimeout:      p.cfg.Gateway.FrameReadTimeout,
		CloseLinger:           p.cfg.Gateway.CloseLinger,
		ShutdownSpread:        p.cfg.Gateway.ShutdownSpread,
		KeepaliveInterval:     p.cfg.Gateway.KeepaliveInterval,
		SSEHeartbeat:          p.cfg.Gateway.SSEHeartbeat,
		TokenExpiryNotice:     p.cfg.Gateway.TokenExpiryNotice,
		ConnLimits:            p.cfg.Limits.Conn,
		AuthGuard:             p.parts.authGuard,
		Meter:                 p.parts.meter.meter,
		Quotas:                p.parts.quota.enforcer,
		Registerer:            p.ops.Registry(),
		MetricsAppLabels:      p.cfg.MetricsAppLabels,
		Logger:                p.cfg.Logger,
		Hops:                  p.parts.perf.hops,
	})
	if err != nil {
		return err
	}
	p.parts.gateway = gw
	p.addCloser("gateway connections", gw.Shutdown)
	return nil
}

// newConnCounter sets up the cluster-wide connection counts behind
// max_connections. They reuse the registry's timing: an unchanged count is
// re-reported with every heartbeat, and a dead gateway's counts stop
// counting when its registry key would expire.
func (p *Platform) newConnCounter(ctx context.Context, pres *presence.Presence) (*conncount.Counter, error) {
	if _, err := ensureBucket(ctx, p.cfg.Logger, "connection count bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return conncount.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas)
	}); err != nil {
		return nil, fmt.Errorf("connection count bucket: %w", err)
	}
	counter, err := conncount.New(conncount.Config{
		JS: p.parts.js, GatewayID: pres.GatewayID(),
		Snapshot: func() map[string]int {
			// Set before the counter runs (runEdge), so no race.
			if gw := p.parts.gateway; gw != nil {
				return gw.ConnCounts()
			}
			return nil
		},
		ReportInterval:  p.cfg.Gateway.ConnCountInterval,
		RefreshInterval: pres.HeartbeatInterval(),
		StaleAfter:      pres.GatewayTTL(),
		Registerer:      p.ops.Registry(),
		Logger:          p.cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("connection counts: %w", err)
	}
	return counter, nil
}

// runEdge starts the app config and signing key caches, presence, the
// connection counts and the gateway in g, and waits until the caches and
// the counts hold the current state, so that no token is refused for a
// key not loaded yet and no limit is judged without the other gateways.
func (p *Platform) runEdge(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return ignoreCanceled(p.parts.apps.Run(ctx), "app config cache") })
	g.Go(func() error { return ignoreCanceled(p.parts.signingKeys.Run(ctx), "signing key cache") })
	g.Go(func() error { return ignoreCanceled(p.parts.quota.totals.Run(ctx), "quota totals cache") })
	if p.parts.presence != nil {
		g.Go(func() error { return ignoreCanceled(p.parts.presence.Run(ctx), "presence") })
	}
	if p.parts.connCount != nil {
		g.Go(func() error { return ignoreCanceled(p.parts.connCount.Run(ctx), "connection counts") })
	}
	if p.parts.gateway != nil {
		g.Go(func() error { return ignoreCanceled(p.parts.gateway.Run(ctx), "gateway") })
	}
	readies := []<-chan struct{}{p.parts.apps.Ready(), p.parts.signingKeys.Ready(), p.parts.quota.totals.Ready()}
	if p.parts.connCount != nil {
		// Until it has loaded, a restarted gateway would admit an app's
		// whole limit on its own.
		readies = append(readies, p.parts.connCount.Ready())
	}
	for _, ready := range readies {
		select {
		case <-ready:
		case <-ctx.Done():
			return
		}
	}
}

func ignoreCanceled(err error, what string) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
