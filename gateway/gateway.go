package gateway

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/tick"
)

// connShards spreads the connection table over several locks.
const connShards = 64

// Gateway serves Pusher protocol connections.
type Gateway struct {
	cfg     Config
	poller  *ws.Poller
	live    *stream.Live
	hub     *hub
	metrics *metrics

	// socketPrefix makes socket ids unique across gateways; nextSocket
	// numbers this gateway's connections.
	socketPrefix uint32
	nextSocket   atomic.Uint64

	limits *connLimiter

	connSeed maphash.Seed
	conns    [connShards]connShard
	// accountLocks serialize the admissions of an account with a plan
	// max_connections (quota.go).
	accountLocks [connShards]sync.Mutex
	watches      watches

	// webhookApps holds the apps whose channels were reported to the
	// webhook state bucket at some point (webhooks.go); webhookSeq
	// numbers the cache_miss events this gateway publishes.
	webhookApps sync.Map
	webhookSeq  atomic.Uint64

	shuttingDown atomic.Bool

	// replaySlots bounds the replays reading the message stream at once
	// (replay.go).
	replaySlots chan struct{}
}

// connShard holds a share of the open connections, indexed by app so
// that an app change reaches its connections without a full scan, and by
// user (users.go).
type connShard struct {
	mu     sync.Mutex
	byApp  map[string]map[*conn]struct{}
	byUser map[userKey]map[*conn]struct{}
	// terminated remembers recent terminate_connections (users.go).
	terminated map[userKey]terminateMark
	// count is every app's connections including those still in their
	// handshake, for max_connections.
	count map[string]int
}

// New returns a Gateway; Run starts it.
func New(cfg Config) (*Gateway, error) {
	cfg.setDefaults()
	switch {
	case cfg.Apps == nil:
		return nil, errors.New("gateway: Apps is required")
	case cfg.Box == nil:
		return nil, errors.New("gateway: Box is required")
	case cfg.Publisher == nil:
		return nil, errors.New("gateway: Publisher is required")
	case cfg.LiveNC == nil || cfg.Reader == nil:
		return nil, errors.New("gateway: LiveNC and Reader are required")
	case cfg.Presence == nil:
		return nil, errors.New("gateway: Presence is required")
	case cfg.Cache == nil:
		return nil, errors.New("gateway: Cache is required")
	}
	g := &Gateway{cfg: cfg, hub: newHub(), connSeed: maphash.MakeSeed(), watches: watches{m: map[chanKey]*watchState{}},
		replaySlots: make(chan struct{}, maxConcurrentReplays)}
	var b [4]byte
	_, _ = rand.Read(b[:])
	// Keep the prefix below 10^9 so socket ids stay short.
	g.socketPrefix = binary.BigEndian.Uint32(b[:]) % 1_000_000_000
	g.initConnTable()
	m, err := newMetrics(cfg.Registerer, func() float64 { return float64(g.hub.count()) }, cfg.MetricsAppLabels)
	if err != nil {
		return nil, err
	}
	g.metrics = m
	if m.appLabels {
		g.hub.deliveries = func(appID string) prometheus.Counter { return m.forApp(appID).deliveries }
	}
	limits, err := newConnLimiter(cfg.ConnLimits, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.limits = limits
	poller, err := ws.NewPoller(ws.PollerConfig{
		MaxMessageSize: cfg.MaxClientMessageBytes, FrameReadTimeout: cfg.FrameReadTimeout,
		CloseLinger: cfg.CloseLinger, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.poller = poller
	if err := registerPollerMetrics(cfg.Registerer, poller.Stats); err != nil {
		_ = poller.Close()
		return nil, err
	}
	live, err := stream.NewLive(stream.LiveConfig{
		NC: cfg.LiveNC, Reader: cfg.Reader, Handler: g.deliver, Logger: cfg.Logger, Hops: cfg.Hops,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.live = live
	return g, nil
}

// Run serves until ctx is done, then returns; call Shutdown first for a
// graceful stop.
func (g *Gateway) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return ignoreCanceled(g.poller.Run(ctx)) })
	eg.Go(func() error { return ignoreCanceled(g.live.Run(ctx)) })
	eg.Go(func() error { g.keepalive(ctx); return nil })
	eg.Go(func() error { return g.runControl(ctx) })
	eg.Go(func() error { tick.Every(ctx, limiterSweepInterval, nil, g.sweepLimiters); return nil })
	return eg.Wait()
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, ws.ErrPollerClosed) {
		return nil
	}
	return err
}

// newSocketID returns a cluster-unique id of Pusher's form "123.456".
func (g *Gateway) newSocketID() string {
	n := g.nextSocket.Add(1)
	return strconv.FormatUint(uint64(g.socketPrefix), 10) + "." + strconv.FormatUint(n, 10)
}

// initConnTable makes the connection table's maps.
func (g *Gateway) initConnTable() {
	for i := range g.conns {
		g.conns[i].byApp = map[string]map[*conn]struct{}{}
		g.conns[i].byUser = map[userKey]map[*conn]struct{}{}
		g.conns[i].terminated = map[userKey]terminateMark{}
		g.conns[i].count = map[string]int{}
	}
}

func (g *Gateway) connShard(appID string) *connShard {
	return &g.conns[maphash.String(g.connSeed, appID)%connShards]
}

// register adds c to the connection table; its connection time counts
// from now.
func (g *Gateway) register(c *conn) {
	s := g.connShard(c.appID)
	s.mu.Lock()
	m := s.byApp[c.appID]
	if m == nil {
		m = map[*conn]struct{}{}
		s.byApp[c.appID] = m
	}
	m[c] = struct{}{}
	sub, signin := c.userIDsLocked()
	s.indexUserLocked(c, sub)
	s.indexUserLocked(c, signin)
	doomed := s.terminatedSinceLocked(c, sub) || s.terminatedSinceLocked(c, signin)
	s.mu.Unlock()
	c.meter.App().Opened()
	if doomed {
		c.terminate()
	}
}

// unregister removes c from the connection table, once: a connection
// that closed while it registered is unregistered twice.
func (g *Gateway) unregister(c *conn) {
	s := g.connShard(c.appID)
	s.mu.Lock()
	found := false
	if m := s.byApp[c.appID]; m != nil {
		_, found = m[c]
		delete(m, c)
		if len(m) == 0 {
			delete(s.byApp, c.appID)
		}
	}
	if found {
		sub, signin := c.userIDsLocked()
		s.unindexUserLocked(c, sub)
		s.unindexUserLocked(c, signin)
	}
	s.mu.Unlock()
	if found {
		c.meter.App().Closed()
	}
}

// reserve counts a new connection of the app against max (0: no limit);
// false means the app is at its limit, counting the connections other
// gateways reported when ClusterConns is set. Every successful reserve is
// undone by one release.
func (g *Gateway) reserve(appID string, max int) bool {
	remote := 0
	// Asked before the shard lock, and only for limited apps: most apps
	// have no limit, and the lookup needs no lock of ours.
	if max > 0 && g.cfg.ClusterConns != nil {
		remote = g.cfg.ClusterConns.Remote(appID)
	}
	s := g.connShard(appID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if max > 0 && s.count[appID]+remote >= max {
		return false
	}
	s.count[appID]++
	return true
}

// ConnCounts returns this gateway's connection count per app, those still
// in their handshake included, for reporting to the other gateways
// (bus/conncount). Without metering only apps with a max_connections
// limit (their own or their account plan's) are listed: nobody else needs the others' counts. With metering
// every app with connections is, because peak_connections is the
// cluster-wide count (docs/billing.md).
func (g *Gateway) ConnCounts() map[string]int {
	out := map[string]int{}
	for i := range g.conns {
		s := &g.conns[i]
		s.mu.Lock()
		for appID, n := range s.count {
			out[appID] = n
		}
		s.mu.Unlock()
	}
	if g.cfg.Meter != nil {
		return out
	}
	for appID := range out {
		// Looked up outside the shard locks: the config cache is lock-free.
		if a, ok := g.cfg.Apps.App(appID); !ok || (a.Settings.MaxConnections <= 0 && a.Quota.MaxConnections <= 0) {
			delete(out, appID)
		}
	}
	return out
}

func (g *Gateway) release(appID string) {
	s := g.connShard(appID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count[appID]--; s.count[appID] <= 0 {
		delete(s.count, appID)
	}
}

// appConns returns a snapshot of an app's connections.
func (g *Gateway) appConns(appID string) []*conn {
	s := g.connShard(appID)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.byApp[appID]))
	for c := range s.byApp[appID] {
		out = append(out, c)
	}
	return out
}

// allConns returns a snapshot of every connection.
func (g *Gateway) allConns() []*conn { return g.appendConns(nil) }

// appendConns appends a snapshot of every connection to out: a scan that
// runs every second reuses its slice instead of allocating one the size
// of the gateway each time.
func (g *Gateway) appendConns(out []*conn) []*conn {
	for i := range g.conns {
		s := &g.conns[i]
		s.mu.Lock()
		for _, m := range s.byApp {
			for c := range m {
				out = append(out, c)
			}
		}
		s.mu.Unlock()
	}
	return out
}

// Shutdown stops accepting connections and closes the open ones with 4200
// ("reconnect now"), spread over ShutdownSpread so that clients reconnect
// to other gateways gradually, then stops the poller.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.shuttingDown.Store(true)
	conns := g.allConns()
	if n := len(conns); n > 0 {
		step := g.cfg.ShutdownSpread / time.Duration(n)
		for _, c := range conns {
			c.closeAfter(nil, uint16(channels.PusherGeneric), "server shutting down")
			if step > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(step):
				}
			}
		}
	}
	// Let the writers send those close frames, and the lingering sockets
	// take the client's last frames, before the poller drops what is left.
	deadline := time.Now().Add(shutdownDrainWait)
	for (len(g.allConns()) > 0 || g.poller.Stats().Lingering > 0) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(shutdownDrainPoll)
	}
	return g.poller.Close()
}

// How long Shutdown waits for closed connections to finish writing their
// close frames, and how often it looks.
const (
	shutdownDrainWait = 2 * time.Second
	shutdownDrainPoll = 10 * time.Millisecond
)

// AppChanged re-checks an app's connections after its config changed:
// a disabled app's connections close with 4003, a deleted app's and a
// revoked key's with 4001. Wire it to the app config cache.
func (g *Gateway) AppChanged(appID string) {
	app, ok := g.cfg.Apps.App(appID)
	for _, c := range g.appConns(appID) {
		if w := c.sock(); ok && w != nil {
			// max_message_bytes or max_presence_user_info_bytes may have
			// changed (SSE connections have no socket to read).
			w.SetMaxMessageSize(clientMessageCap(app, g.cfg.MaxClientMessageBytes))
		}
		switch {
		case !ok:
			c.fail(channels.PusherAppNotFound, "application no longer exists")
		case !app.Enabled:
			c.fail(channels.PusherAppDisabled, "application disabled")
		default:
			if _, live := app.Key(c.key); !live {
				c.fail(channels.PusherAppNotFound, "application key revoked")
			} else if t := c.claims(); t != nil && t.TenantSigned {
				// A tenant token dies with the key that signed it.
				if _, live := app.Key(t.KeyID); !live {
					c.fail(channels.PusherUnauthorized, "token signing key revoked")
				}
			}
		}
	}
	g.webhookAppChanged(appID)
}
