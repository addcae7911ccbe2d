package debugstream

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/defaults"
	"github.com/heraldhq/herald/internal/tick"
)

// PublisherConfig configures a Publisher. NC and Interest are required.
type PublisherConfig struct {
	// NC carries the core publishes.
	NC *nats.Conn
	// Interest says which apps are watched.
	Interest *Interest
	// EventsPerSecond caps each app's events from this process; zero
	// means DefaultEventsPerSecond.
	EventsPerSecond int
	// Gateway, when set, names this process in its dropped events.
	Gateway string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Publisher publishes the debug events of watched apps. Its methods are
// safe for concurrent use, and a nil Publisher publishes nothing.
type Publisher struct {
	cfg     PublisherConfig
	limiter *limiter
}

// NewPublisher validates cfg and returns a Publisher; Run reports its
// drops.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.NC == nil || cfg.Interest == nil {
		return nil, errors.New("debugstream: NC and Interest are required")
	}
	cfg.EventsPerSecond = defaults.Positive(cfg.EventsPerSecond, DefaultEventsPerSecond)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Publisher{cfg: cfg, limiter: newLimiter(cfg.EventsPerSecond, cfg.Now)}, nil
}

// Watched reports whether a console watches the app: callers check it
// before they build an event, so that an unwatched app costs nothing
// more.
func (p *Publisher) Watched(appID string) bool {
	return p != nil && p.cfg.Interest.Watched(appID)
}

// Emit publishes the event build makes, calling it only when the app is
// watched. Where a closure would allocate on a hot path, check Watched
// and call Publish instead.
func (p *Publisher) Emit(appID string, build func() channels.DebugEvent) {
	if p.Watched(appID) {
		p.Publish(appID, build())
	}
}

// Publish publishes ev to the app's debug subject if the app is watched
// and within its cap (beyond it the event is counted as dropped). A zero
// Time is set to now. It never blocks on the network.
func (p *Publisher) Publish(appID string, ev channels.DebugEvent) {
	if !p.Watched(appID) {
		return
	}
	// One reading of the clock, so that an event shown counts in the
	// second of its time.
	now := p.cfg.Now()
	if ev.Time == 0 {
		ev.Time = now.UnixMilli()
	}
	if !p.limiter.allow(appID, time.UnixMilli(ev.Time)) {
		return
	}
	p.publish(appID, &ev)
}

func (p *Publisher) publish(appID string, ev *channels.DebugEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		p.cfg.Logger.Warn("debug event not encoded", "app", appID, "err", err)
		return
	}
	if err := p.cfg.NC.Publish(channels.DebugSubject(appID), b); err != nil {
		p.cfg.Logger.Debug("debug event not published", "app", appID, "err", err)
	}
}

// Run reports every app's dropped events, once a second at most, until
// ctx is done.
func (p *Publisher) Run(ctx context.Context) {
	tick.Every(ctx, dropReportInterval, nil, func() {
		p.limiter.takeDropped(func(appID string, n int64) {
			if !p.Watched(appID) {
				return
			}
			p.publish(appID, &channels.DebugEvent{
				Type: channels.DebugDropped, Time: p.cfg.Now().UnixMilli(), Gateway: p.cfg.Gateway, Count: n,
			})
		})
	})
}
