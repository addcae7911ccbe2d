package gateways

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvttl"
)

// Timing of a registration.
const (
	// RequestTimeout bounds one request made on the registration's own
	// initiative (a heartbeat, a cleanup lock).
	RequestTimeout = 5 * time.Second
	// minBackoff and maxBackoff bound the wait before watching the
	// registry again after the watch failed.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Config configures a Registration. JS, ID, TTL and HeartbeatInterval are
// required.
type Config struct {
	// JS writes and watches the bucket, which EnsureBucket must have
	// created.
	JS jetstream.JetStream
	// ID is unique per process start; see ValidateGatewayID.
	ID string
	// Addr is an optional address advertised in the registry.
	Addr string
	// TTL is the TTL of the key: how long a dead gateway still looks
	// alive. At least kvttl.MinTTL.
	TTL time.Duration
	// HeartbeatInterval is how often the key is renewed; below TTL.
	HeartbeatInterval time.Duration
	// MarkerTTL is how long the marker Unregister leaves stays; below
	// kvttl.MinTTL means DefaultMarkerTTL.
	MarkerTTL time.Duration
	// OnLost is called by Run after this gateway found its key gone and
	// wrote it again: the cluster took it for dead meanwhile and may have
	// removed what it owned. Nil does nothing.
	OnLost func()
	// OnGone is called by Run with the id of every other gateway whose
	// key disappears (it expired or was purged). It must not block. Nil
	// does nothing.
	OnGone func(id string)
	// Logger defaults to discarding.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.JS == nil {
		return c, errors.New("gateway registration: JS is required")
	}
	if err := ValidateGatewayID(c.ID); err != nil {
		return c, fmt.Errorf("gateway registration: %w", err)
	}
	if c.TTL < kvttl.MinTTL {
		return c, fmt.Errorf("gateway registration: TTL must be at least %s", kvttl.MinTTL)
	}
	if c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.TTL {
		return c, errors.New("gateway registration: heartbeat interval must be positive and shorter than the TTL")
	}
	if c.MarkerTTL < kvttl.MinTTL {
		c.MarkerTTL = DefaultMarkerTTL
	}
	if c.OnLost == nil {
		c.OnLost = func() {}
	}
	if c.OnGone == nil {
		c.OnGone = func(string) {}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Registration is one gateway's key in the registry and its view of the
// others. It is safe for concurrent use.
type Registration struct {
	cfg  Config
	kv   jetstream.KeyValue
	log  *slog.Logger
	self []byte // this gateway's registry value
	// reregister asks the heartbeat loop to renew at once.
	reregister chan struct{}

	mu   sync.Mutex
	rev  uint64             // revision of this gateway's key
	live map[string]Gateway // from the watch
}

// Register writes this gateway's key, which must not exist: a live
// gateway with the same id makes it fail with ErrIDInUse. Call Run next:
// it keeps the key alive.
func Register(ctx context.Context, cfg Config) (*Registration, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	self, err := json.Marshal(Gateway{ID: cfg.ID, StartedAt: time.Now().UTC(), Addr: cfg.Addr})
	if err != nil {
		return nil, fmt.Errorf("encode registry entry: %w", err)
	}
	kv, err := cfg.JS.KeyValue(ctx, Bucket)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", Bucket, err)
	}
	rev, err := kv.Create(ctx, cfg.ID, self, jetstream.KeyTTL(kvttl.Round(cfg.TTL)))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("register %s: %w", cfg.ID, ErrIDInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", cfg.ID, err)
	}
	return &Registration{
		cfg: cfg, kv: kv, self: self, rev: rev,
		log:        cfg.Logger.With(slog.String("gateway_id", cfg.ID)),
		reregister: make(chan struct{}, 1),
		live:       make(map[string]Gateway),
	}, nil
}

// ID is this gateway's id.
func (r *Registration) ID() string { return r.cfg.ID }

// TTL is the TTL of the key: how long a dead gateway still looks alive.
func (r *Registration) TTL() time.Duration { return r.cfg.TTL }

// HeartbeatInterval is the period of renewals.
func (r *Registration) HeartbeatInterval() time.Duration { return r.cfg.HeartbeatInterval }

// Gateways lists the running gateways the watch knows of, this one
// included once Run has loaded the registry, sorted by id.
func (r *Registration) Gateways() []Gateway {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Gateway, 0, len(r.live))
	for _, g := range r.live {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Gateway) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Live reports whether the watch lists gateway id as running.
func (r *Registration) Live(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.live[id]
	return ok
}

// Heartbeat renews the key as a compare-and-set on the revision it last
// wrote. A mismatch means the key expired or was deleted: the cluster
// took this gateway for dead, so it registers again and calls OnLost.
func (r *Registration) Heartbeat(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, RequestTimeout)
	defer cancel()
	subject := SubjectPrefix + r.cfg.ID
	r.mu.Lock()
	rev := r.rev
	r.mu.Unlock()
	js := r.cfg.JS
	ack, err := js.PublishMsg(ctx, kvttl.ExpectRev(kvttl.Put(subject, r.self, r.cfg.TTL), rev))
	if kvttl.IsWrongRev(err) {
		r.log.Warn("gateway registry entry was lost; registering again and rewriting members")
		ack, err = js.PublishMsg(ctx, kvttl.Put(subject, r.self, r.cfg.TTL))
		r.cfg.OnLost()
	}
	if err != nil {
		if parent.Err() == nil {
			r.log.Warn("gateway heartbeat failed", slog.Any("error", err))
		}
		return
	}
	r.mu.Lock()
	r.rev = ack.Sequence
	r.mu.Unlock()
}

// Unregister purges the key, leaving a marker for MarkerTTL, so that the
// other gateways see this one leave at once. Call it after Run returned.
func (r *Registration) Unregister(ctx context.Context) error {
	if err := r.kv.Purge(ctx, r.cfg.ID, jetstream.PurgeTTL(kvttl.Round(r.cfg.MarkerTTL))); err != nil {
		return fmt.Errorf("unregister: %w", err)
	}
	return nil
}

// ClaimCleanup elects the gateway that cleans up after dead gateway id:
// it reports whether this one won. Every gateway sees a registry key
// expire at about the same time; one of them creates the lock key
// (Create fails for the others), so a dead gateway's state is removed
// once rather than once per surviving gateway. The lock expires after
// TTL and is never deleted, so stragglers that see the death a little
// later do not clean again.
func (r *Registration) ClaimCleanup(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	_, err := r.kv.Create(ctx, lockPrefix+id, []byte(r.cfg.ID), jetstream.KeyTTL(kvttl.Round(r.cfg.TTL)))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cleanup lock of %s: %w", id, err)
	}
	return true, nil
}
