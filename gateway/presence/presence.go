// Package presence keeps presence channels' members consistent across
// every gateway of a cluster (docs/architecture.md, "Cluster-wide state";
// docs/nats.md, "KV buckets"), and keeps this gateway registered in the
// registry of running gateways (bus/gateways).
//
// Each connection on a presence channel is a key in the MemberBucket KV
// bucket with a per-key TTL that its gateway renews. The bucket republishes
// every change to core subjects, and a gateway follows a channel with one
// core subscription while it has local subscribers (a Roster): no consumer
// or watcher per channel. A gateway that dies without cleaning up stops
// heartbeating its gateways.Bucket key; when that key expires, one surviving
// gateway (elected with a lock key) deletes the dead gateway's members, and
// every roster sees them leave. Member TTLs are the backstop when nobody is
// left to clean up.
package presence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero Config fields.
const (
	// DefaultMemberTTL is how long a member key outlives its last renewal:
	// the backstop when a gateway dies and nobody cleans up after it.
	DefaultMemberTTL = 60 * time.Second
	// DefaultGatewayTTL is how long a gateway's registry key outlives its
	// last heartbeat; a dead gateway's members go about this long after
	// it died.
	DefaultGatewayTTL = 15 * time.Second
	// DefaultMarkerTTL is how long delete markers stay in both buckets.
	// It is at least DefaultGatewayTTL so that a registry watcher that
	// reconnects still sees the gateways that died meanwhile.
	DefaultMarkerTTL = gateways.DefaultMarkerTTL
	// DefaultMaxUserInfoBytes is the hard cap on user info: the largest
	// per-app limit an app's settings may hold.
	DefaultMaxUserInfoBytes = channels.MaxUserInfoBytesUB
	// DefaultSnapshotBatch is how many messages one Direct Get request of
	// a roster snapshot returns at most.
	DefaultSnapshotBatch = 256
)

// Other timing.
const (
	// CleanupTimeout bounds the clean stop at the end of Run.
	CleanupTimeout = 10 * time.Second
	// requestTimeout bounds one JetStream request made on the package's
	// own initiative (renewals, janitor, one snapshot batch).
	requestTimeout = gateways.RequestTimeout
	// minBackoff and maxBackoff bound the wait before a roster
	// resynchronizes again after a failed snapshot.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Errors callers branch on.
var (
	// ErrAlreadyOpen is returned by Open when this Presence already has a
	// roster for the channel.
	ErrAlreadyOpen = errors.New("presence roster already open")
	// ErrGatewayIDInUse is returned by New when another running gateway
	// registered the same id.
	ErrGatewayIDInUse = gateways.ErrIDInUse
	// ErrAlreadyRunning is returned by Run when it is already running.
	ErrAlreadyRunning = errors.New("presence already running")
	// ErrStopped is returned by Join once Run has stopped.
	ErrStopped = errors.New("presence stopped")
)

// Config configures a Presence. JS, NC and GatewayID are required; zero
// durations and sizes take the defaults above.
type Config struct {
	// JS writes keys. Keep it on a different connection from NC
	// (docs/nats.md, "Slow consumers").
	JS jetstream.JetStream
	// NC carries the per-channel core subscriptions and snapshot Direct
	// Get requests.
	NC *nats.Conn
	// GatewayID is unique per process start, [A-Za-z0-9_-]{1,64}.
	GatewayID string
	// Addr is an optional address advertised in the registry.
	Addr string
	// Replicas of both buckets; < 1 means 1.
	Replicas int
	// MemberTTL is the per-key TTL of member keys.
	MemberTTL time.Duration
	// RenewInterval is how often member leases are renewed; zero means
	// MemberTTL/3.
	RenewInterval time.Duration
	// GatewayTTL is the TTL of this gateway's registry key.
	GatewayTTL time.Duration
	// HeartbeatInterval is how often the registry key is renewed; zero
	// means GatewayTTL/3.
	HeartbeatInterval time.Duration
	// MarkerTTL is how long delete markers stay in both buckets.
	MarkerTTL time.Duration
	// MaxUserInfoBytes caps user info in Join.
	MaxUserInfoBytes int
	// SnapshotBatch is the batch size of snapshot Direct Gets.
	SnapshotBatch int
	// OnLost is called after this gateway found its registry entry gone
	// and registered again: the cluster took it for dead and may have
	// removed what it wrote elsewhere too (webhook state). Nil does
	// nothing; it must not block.
	OnLost func()
	// Logger defaults to discarding.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.JS == nil || c.NC == nil {
		return c, errors.New("presence: JS and NC are required")
	}
	if err := gateways.ValidateGatewayID(c.GatewayID); err != nil {
		return c, fmt.Errorf("presence: %w", err)
	}
	c.Replicas = max(c.Replicas, 1)
	c.MemberTTL = defaults.Positive(c.MemberTTL, DefaultMemberTTL)
	c.RenewInterval = defaults.Positive(c.RenewInterval, c.MemberTTL/3)
	c.GatewayTTL = defaults.Positive(c.GatewayTTL, DefaultGatewayTTL)
	c.HeartbeatInterval = defaults.Positive(c.HeartbeatInterval, c.GatewayTTL/3)
	c.MarkerTTL = defaults.Positive(c.MarkerTTL, DefaultMarkerTTL)
	c.MaxUserInfoBytes = defaults.Positive(c.MaxUserInfoBytes, DefaultMaxUserInfoBytes)
	c.SnapshotBatch = defaults.Positive(c.SnapshotBatch, DefaultSnapshotBatch)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []time.Duration{c.MemberTTL, c.GatewayTTL, c.MarkerTTL} {
		if d < kvttl.MinTTL {
			return c, fmt.Errorf("presence: TTLs must be at least %s", kvttl.MinTTL)
		}
	}
	if c.RenewInterval >= c.MemberTTL || c.HeartbeatInterval >= c.GatewayTTL {
		return c, errors.New("presence: renew and heartbeat intervals must be shorter than their TTLs")
	}
	return c, nil
}

// Presence is one gateway's view of cluster-wide presence. It is safe for
// concurrent use.
type Presence struct {
	cfg     Config
	js      jetstream.JetStream
	nc      *nats.Conn
	reg     *gateways.Registration
	janitor *janitor
	members *directget.Client // reads the member bucket
	log     *slog.Logger

	running atomic.Bool
	stopped atomic.Bool
	// renewNow asks the renew loop for an immediate round, after this
	// gateway found its registry entry gone (its members may be too).
	renewNow chan struct{}

	mu      sync.Mutex
	leases  map[string]*lease  // by member key: this gateway's connections
	rosters map[string]*Roster // by channel prefix
}

// New ensures both buckets and registers this gateway. Call Run next: it
// keeps the registration and the members' leases alive.
func New(ctx context.Context, cfg Config) (*Presence, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Presence{
		cfg: cfg, js: cfg.JS, nc: cfg.NC, log: cfg.Logger.With(slog.String("gateway_id", cfg.GatewayID)),
		renewNow: make(chan struct{}, 1),
		leases:   make(map[string]*lease),
		rosters:  make(map[string]*Roster),
		members:  directget.New(cfg.NC, memberBucketStream, requestTimeout),
	}
	p.janitor = newJanitor(p)
	if err := EnsureBuckets(ctx, cfg.JS, cfg.Replicas, cfg.MarkerTTL); err != nil {
		return nil, err
	}
	p.reg, err = gateways.Register(ctx, gateways.Config{
		JS: cfg.JS, ID: cfg.GatewayID, Addr: cfg.Addr,
		TTL: cfg.GatewayTTL, HeartbeatInterval: cfg.HeartbeatInterval, MarkerTTL: cfg.MarkerTTL,
		// Lost: its members may be gone too; rewrite every lease at once.
		OnLost: func() {
			signal(p.renewNow)
			if cfg.OnLost != nil {
				cfg.OnLost()
			}
		},
		OnGone: p.janitor.add,
		Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("presence: %w", err)
	}
	return p, nil
}

// EnsureBuckets creates both buckets (members here, the registry in
// gateways.EnsureBucket) or updates their configuration. Every key
// carries its own TTL, and LimitMarkerTTL makes expiries leave delete
// markers that watchers and RePublish see. markerTTL < kvttl.MinTTL means
// DefaultMarkerTTL; replicas < 1 means 1.
func EnsureBuckets(ctx context.Context, js jetstream.JetStream, replicas int, markerTTL time.Duration) error {
	if markerTTL < kvttl.MinTTL {
		markerTTL = DefaultMarkerTTL
	}
	err := kvttl.EnsureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      MemberBucket,
		Description: "Herald presence: one key per connection on a presence channel, renewed by its gateway",
		RePublish: &jetstream.RePublish{
			Source:      memberSubjectPrefix + ">",
			Destination: EventSubjectPrefix + ".>",
		},
	}, replicas, markerTTL)
	if err != nil {
		return err
	}
	return gateways.EnsureBucket(ctx, js, replicas, markerTTL)
}

// GatewayID is this gateway's id.
func (p *Presence) GatewayID() string { return p.cfg.GatewayID }

// GatewayTTL is the effective TTL of the registry key: how long a dead
// gateway still looks alive.
func (p *Presence) GatewayTTL() time.Duration { return p.cfg.GatewayTTL }

// HeartbeatInterval is the effective period of registry renewals.
func (p *Presence) HeartbeatInterval() time.Duration { return p.cfg.HeartbeatInterval }

// Gateways lists the running gateways the registry knows of, this one
// included once Run has loaded the registry; cluster-wide queries must
// hear from each of them.
func (p *Presence) Gateways() []gateways.Gateway { return p.reg.Gateways() }
