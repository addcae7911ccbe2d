// Package presence keeps presence channels' members consistent across
// every gateway of a cluster, and keeps the registry of running gateways
// (docs/architecture.md, "Cluster-wide state"; docs/nats.md, "KV buckets").
//
// Each connection on a presence channel is a key in the MemberBucket KV
// bucket with a per-key TTL that its gateway renews. The bucket republishes
// every change to core subjects, and a gateway follows a channel with one
// core subscription while it has local subscribers (a Roster): no consumer
// or watcher per channel. A gateway that dies without cleaning up stops
// heartbeating its GatewayBucket key; when that key expires, one surviving
// gateway (elected with a lock key) deletes the dead gateway's members, and
// every roster sees them leave. Member TTLs are the backstop when nobody is
// left to clean up.
package presence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
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
	DefaultMarkerTTL = 30 * time.Second
	// DefaultMaxUserInfoBytes is the hard cap on user info: the largest
	// per-app limit an app's settings may hold.
	DefaultMaxUserInfoBytes = channels.MaxUserInfoBytesUB
	// DefaultSnapshotBatch is how many messages one Direct Get request of
	// a roster snapshot returns at most.
	DefaultSnapshotBatch = 256
)

// Other timing.
const (
	// MinTTL is the shortest TTL JetStream accepts (docs/nats.md,
	// "KV: TTLs, markers, compare-and-set"); TTLs are also rounded up to
	// whole seconds.
	MinTTL = time.Second
	// CleanupTimeout bounds the clean stop at the end of Run.
	CleanupTimeout = 10 * time.Second
	// requestTimeout bounds one JetStream request made on the package's
	// own initiative (renewals, janitor, one snapshot batch).
	requestTimeout = 5 * time.Second
	// minBackoff and maxBackoff bound the wait before watching the
	// registry again after the watch failed.
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
	ErrGatewayIDInUse = errors.New("gateway id in use")
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
	// Logger defaults to discarding.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.JS == nil || c.NC == nil {
		return c, errors.New("presence: JS and NC are required")
	}
	if err := ValidateGatewayID(c.GatewayID); err != nil {
		return c, fmt.Errorf("presence: %w", err)
	}
	c.Replicas = max(c.Replicas, 1)
	c.MemberTTL = orDefault(c.MemberTTL, DefaultMemberTTL)
	c.RenewInterval = orDefault(c.RenewInterval, c.MemberTTL/3)
	c.GatewayTTL = orDefault(c.GatewayTTL, DefaultGatewayTTL)
	c.HeartbeatInterval = orDefault(c.HeartbeatInterval, c.GatewayTTL/3)
	c.MarkerTTL = orDefault(c.MarkerTTL, DefaultMarkerTTL)
	if c.MaxUserInfoBytes <= 0 {
		c.MaxUserInfoBytes = DefaultMaxUserInfoBytes
	}
	if c.SnapshotBatch <= 0 {
		c.SnapshotBatch = DefaultSnapshotBatch
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []time.Duration{c.MemberTTL, c.GatewayTTL, c.MarkerTTL} {
		if d < MinTTL {
			return c, fmt.Errorf("presence: TTLs must be at least %s", MinTTL)
		}
	}
	if c.RenewInterval >= c.MemberTTL || c.HeartbeatInterval >= c.GatewayTTL {
		return c, errors.New("presence: renew and heartbeat intervals must be shorter than their TTLs")
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Presence is one gateway's view of cluster-wide presence. It is safe for
// concurrent use.
type Presence struct {
	cfg      Config
	js       jetstream.JetStream
	nc       *nats.Conn
	gateways jetstream.KeyValue
	log      *slog.Logger
	self     []byte // this gateway's registry value

	running atomic.Bool
	stopped atomic.Bool
	// renewNow asks the renew loop for an immediate round, after this
	// gateway found its registry entry gone (its members may be too).
	renewNow chan struct{}
	// reregister asks the heartbeat loop to renew at once.
	reregister chan struct{}

	mu      sync.Mutex
	leases  map[string]*lease  // by member key: this gateway's connections
	rosters map[string]*Roster // by channel prefix
	live    map[string]Gateway // from the registry watch
	gwRev   uint64             // revision of this gateway's registry key
}

// Gateway is one running gateway as the registry lists it.
type Gateway struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Addr      string    `json:"addr,omitempty"`
}

// New ensures both buckets and registers this gateway. Call Run next: it
// keeps the registration and the members' leases alive.
func New(ctx context.Context, cfg Config) (*Presence, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	self, err := json.Marshal(Gateway{ID: cfg.GatewayID, StartedAt: time.Now().UTC(), Addr: cfg.Addr})
	if err != nil {
		return nil, fmt.Errorf("presence: encode registry entry: %w", err)
	}
	p := &Presence{
		cfg: cfg, js: cfg.JS, nc: cfg.NC, log: cfg.Logger.With(slog.String("gateway_id", cfg.GatewayID)),
		self:       self,
		renewNow:   make(chan struct{}, 1),
		reregister: make(chan struct{}, 1),
		leases:     make(map[string]*lease),
		rosters:    make(map[string]*Roster),
		live:       make(map[string]Gateway),
	}
	if err := EnsureBuckets(ctx, cfg.JS, cfg.Replicas, cfg.MarkerTTL); err != nil {
		return nil, err
	}
	p.gateways, err = cfg.JS.KeyValue(ctx, GatewayBucket)
	if err != nil {
		return nil, fmt.Errorf("presence: open bucket %s: %w", GatewayBucket, err)
	}
	rev, err := p.gateways.Create(ctx, cfg.GatewayID, self, jetstream.KeyTTL(roundTTL(cfg.GatewayTTL)))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("presence: register %s: %w", cfg.GatewayID, ErrGatewayIDInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("presence: register %s: %w", cfg.GatewayID, err)
	}
	p.gwRev = rev
	return p, nil
}

// EnsureBuckets creates both buckets or updates their configuration.
// Every key carries its own TTL, and LimitMarkerTTL makes expiries leave
// delete markers that watchers and RePublish see. markerTTL < MinTTL means
// DefaultMarkerTTL; replicas < 1 means 1.
func EnsureBuckets(ctx context.Context, js jetstream.JetStream, replicas int, markerTTL time.Duration) error {
	if markerTTL < MinTTL {
		markerTTL = DefaultMarkerTTL
	}
	replicas = max(replicas, 1)
	for _, cfg := range []jetstream.KeyValueConfig{{
		Bucket:      MemberBucket,
		Description: "Herald presence: one key per connection on a presence channel, renewed by its gateway",
		RePublish: &jetstream.RePublish{
			Source:      memberSubjectPrefix + ">",
			Destination: EventSubjectPrefix + ".>",
		},
	}, {
		Bucket:      GatewayBucket,
		Description: "Herald gateway registry: one key per running gateway, heartbeated",
	}} {
		cfg.History = 1
		cfg.Storage = jetstream.FileStorage
		cfg.Replicas = replicas
		cfg.LimitMarkerTTL = roundTTL(markerTTL)
		if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return fmt.Errorf("ensure bucket %s: %w", cfg.Bucket, err)
		}
	}
	return nil
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
func (p *Presence) Gateways() []Gateway {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Gateway, 0, len(p.live))
	for _, g := range p.live {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Gateway) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// roundTTL rounds d up to whole seconds: JetStream truncates TTLs to
// seconds, and a lease must never be shorter than asked.
func roundTTL(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
