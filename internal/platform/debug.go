package platform

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/debugstream"
)

// DebugConfig tunes the console's live debug stream (docs/console.md,
// "Debug stream"); zero fields take the defaults of bus/debugstream and
// controlplane/api.
type DebugConfig struct {
	// EventsPerSecond caps each app's debug events per second, per
	// publishing process and per console (--debug-events-per-second).
	EventsPerSecond int
	// InterestTTL is how long a console's interest in an app outlives
	// its last renewal (--debug-interest-ttl).
	InterestTTL time.Duration
	// Heartbeat is the period of the stream's comment lines
	// (--debug-heartbeat).
	Heartbeat time.Duration
}

// debugParts are the process's side of the debug stream: every process
// follows the interest and publishes its events; a control plane also
// serves the streams.
type debugParts struct {
	interest  *debugstream.Interest
	publisher *debugstream.Publisher
	watchers  *debugstream.Watchers
}

// startDebug ensures the interest bucket and builds the interest, the
// publisher and, on a control plane, the watchers.
func (p *Platform) startDebug(ctx context.Context) error {
	c := p.cfg.Debug
	if err := retryStartup(ctx, p.cfg.Logger, "debug interest bucket", func(ctx context.Context) error {
		return debugstream.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas, c.InterestTTL)
	}); err != nil {
		return fmt.Errorf("debug interest bucket: %w", err)
	}
	d := &p.parts.debug
	d.interest = debugstream.NewInterest(debugstream.InterestConfig{JS: p.parts.js, Logger: p.cfg.Logger})
	pub, err := debugstream.NewPublisher(debugstream.PublisherConfig{
		NC: p.parts.nc, Interest: d.interest, EventsPerSecond: c.EventsPerSecond, Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	d.publisher = pub
	if p.cfg.Mode == ModeGateway {
		return nil
	}
	w, err := debugstream.NewWatchers(debugstream.WatchersConfig{
		JS: p.parts.js, NC: p.parts.nc, Interest: d.interest, InterestTTL: c.InterestTTL,
		EventsPerSecond: c.EventsPerSecond, Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	d.watchers = w
	return nil
}

// runDebug follows the interest and reports dropped events in g.
func (p *Platform) runDebug(ctx context.Context, g *errgroup.Group) {
	d := p.parts.debug
	if d.interest == nil {
		return
	}
	g.Go(func() error { return ignoreCanceled(d.interest.Run(ctx), "debug interest") })
	g.Go(func() error { d.publisher.Run(ctx); return nil })
}
