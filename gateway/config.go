// Package gateway is Herald's edge: it holds client WebSocket connections,
// speaks Pusher Channels protocol v7 to them, and meets the rest of the
// platform only through NATS (messages, presence, app configs) and the
// types in channels.
package gateway

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"math"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/defaults"
	"github.com/heraldhq/herald/internal/hoptrace"
	"github.com/heraldhq/herald/internal/secretbox"
)

// Defaults of Config (docs/architecture.md, "Limits and defaults").
const (
	// DefaultSendQueueBytes bounds what may wait for one slow client before
	// it is cut off with 4100.
	DefaultSendQueueBytes = 1 << 20
	// DefaultPongTimeout is how long a client may take to answer the
	// server's ping (pusher-js waits 30 s for ours).
	DefaultPongTimeout = 30 * time.Second
	// DefaultShutdownSpread is the window over which shutdown closes
	// connections with 4200, so that clients do not all reconnect at once.
	DefaultShutdownSpread = 3 * time.Second
	// DefaultMaxClientMessageBytes is the ceiling on a client message,
	// whatever its app allows (see clientMessageCap).
	DefaultMaxClientMessageBytes = 64 << 10
	// DefaultFrameReadTimeout is how long a client frame (or fragmented
	// message) that started arriving may take to complete.
	DefaultFrameReadTimeout = ws.DefaultFrameReadTimeout
	// DefaultCloseLinger is how long a closed connection keeps reading
	// and discarding the client's input after the close frame.
	DefaultCloseLinger = ws.DefaultCloseLinger
	// DefaultKeepaliveInterval is how often idle connections are checked.
	DefaultKeepaliveInterval = time.Second
	// DefaultPublishTimeout bounds publishing one client event.
	DefaultPublishTimeout = 5 * time.Second
	// DefaultTokenExpiryNotice is how long before a connection's token
	// expires that herald_internal:token_expiring is sent, leaving the
	// client time to fetch a new token and send herald:refresh.
	DefaultTokenExpiryNotice = 60 * time.Second
	// DefaultReplayTailCheck is how long after a replay a subscription
	// whose channel stayed quiet checks for a message stored in the
	// moment the replay ended (see continuity.go).
	DefaultReplayTailCheck = time.Second
)

// AppSource looks up app configs; bus/appconfig.Cache implements it
// from the HERALD_APPS KV bucket.
type AppSource interface {
	App(id string) (*channels.AppConfig, bool)
	ByKey(key string) (*channels.AppConfig, bool)
}

// SigningKeySource finds live public token signing keys by kid.
type SigningKeySource interface {
	PublicKey(kid string) (ed25519.PublicKey, bool)
}

// Publisher puts a message into the message stream.
type Publisher interface {
	Publish(ctx context.Context, m stream.Message) (serial uint64, duplicate bool, err error)
}

// CacheReader reads cache channels' last events.
type CacheReader interface {
	Get(ctx context.Context, appID, channel string) (cachechan.Entry, bool, error)
}

// ClusterConns counts an app's connections on the other gateways of the
// cluster; bus/conncount.Counter implements it from the
// HERALD_CONN_COUNTS KV bucket. Remote is called on every connection
// attempt of an app with a connection limit, so it must be cheap.
type ClusterConns interface {
	Remote(appID string) int
}

// Config configures a Gateway. Zero fields take the documented defaults.
type Config struct {
	// GatewayID identifies this process cluster-wide; unique per start.
	GatewayID string
	Apps      AppSource
	// Box opens the app key secrets sealed in the app configs.
	Box       *secretbox.Box
	Publisher Publisher
	// LiveNC is the NATS connection used only for live subscriptions.
	LiveNC *nats.Conn
	// Reader fetches missed messages for gap repair.
	Reader   *stream.Reader
	Presence *presence.Presence
	// Cache holds cache channels' last events.
	Cache CacheReader
	// SigningKeys finds the control plane's public token signing keys
	// (bus/signingkeys.Cache, from the HERALD_SIGNING_KEYS KV
	// bucket); nil refuses platform tokens.
	SigningKeys SigningKeySource

	// ClusterConns makes max_connections count the app's connections on
	// every gateway; nil counts this gateway's only.
	ClusterConns ClusterConns

	// WebhookState receives this gateway's changes of channels whose app
	// wants channel webhooks (bus/webhookstate.Reporter, which reads them
	// back with Gateway.WebhookSnapshot); nil reports nothing.
	WebhookState WebhookReporter
	// WebhookEvents publishes the client_event and cache_miss webhooks
	// (bus/webhookstate.Emitter); nil publishes none.
	WebhookEvents WebhookEmitter
	// Debug publishes the debug events of apps a console watches
	// (bus/debugstream.Publisher); nil publishes none.
	Debug DebugEmitter

	// PathPrefix mounts the WebSocket endpoint under a prefix ("/ws" makes
	// it /ws/app/{key}).
	PathPrefix     string
	SendQueueBytes int
	PongTimeout    time.Duration
	ShutdownSpread time.Duration
	// MaxClientMessageBytes is the ceiling on a client message (all its
	// fragments); each connection's own cap is its app's need under it
	// (clientMessageCap).
	MaxClientMessageBytes int
	// FrameReadTimeout bounds how long a frame that started arriving may
	// take to complete; negative disables it.
	FrameReadTimeout time.Duration
	// CloseLinger is how long a closed connection keeps reading and
	// discarding after its close frame, so that frames the client had in
	// flight do not reset the connection and destroy the close frame;
	// negative closes at once.
	CloseLinger       time.Duration
	KeepaliveInterval time.Duration
	PublishTimeout    time.Duration
	// SSEHeartbeat is the period of SSE comment lines.
	SSEHeartbeat time.Duration
	// TokenExpiryNotice is how long before its token's exp a token
	// connection is sent herald_internal:token_expiring.
	TokenExpiryNotice time.Duration
	// ReplayTailCheck is how long after a resume or rewind a quiet
	// channel is checked for a message its replay and live delivery both
	// missed.
	ReplayTailCheck time.Duration
	// ConnLimits are the connection-rate limits; zero fields take the
	// defaults.
	ConnLimits ConnLimits
	// AuthGuard counts refused tokens and signatures per client address
	// and throttles the addresses over its limit (authfail.go); nil
	// throttles none.
	AuthGuard *authguard.Guard

	// Quotas enforces the account plans' quotas (docs/billing.md,
	// "Quotas and enforcement"); nil enforces none but an account's
	// max_connections, which needs no state.
	Quotas *billing.Enforcer

	// Meter counts each app's deliveries, presence events, bytes and
	// connection time (docs/billing.md); nil meters nothing.
	Meter *billing.Meter
	// Registerer receives the gateway's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// MetricsAppLabels adds an app label to the connections, deliveries
	// and slow-consumer series (--metrics-app-labels): one series per app
	// each, so off by default.
	MetricsAppLabels bool
	Logger           *slog.Logger
	// Hops times the live path's hops (--trace-hops; docs/performance.md,
	// "Per-hop timing"); nil, the default, takes no time stamp.
	Hops *hoptrace.Recorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	// A connection counts its queue in an int32 (conn.queued).
	c.SendQueueBytes = min(defaults.Positive(c.SendQueueBytes, DefaultSendQueueBytes), math.MaxInt32)
	c.PongTimeout = defaults.Positive(c.PongTimeout, DefaultPongTimeout)
	c.ShutdownSpread = defaults.Positive(c.ShutdownSpread, DefaultShutdownSpread)
	c.MaxClientMessageBytes = defaults.Positive(c.MaxClientMessageBytes, DefaultMaxClientMessageBytes)
	if c.FrameReadTimeout == 0 {
		c.FrameReadTimeout = DefaultFrameReadTimeout
	}
	if c.CloseLinger == 0 {
		c.CloseLinger = DefaultCloseLinger
	}
	c.KeepaliveInterval = defaults.Positive(c.KeepaliveInterval, DefaultKeepaliveInterval)
	c.SSEHeartbeat = defaults.Positive(c.SSEHeartbeat, DefaultSSEHeartbeat)
	c.TokenExpiryNotice = defaults.Positive(c.TokenExpiryNotice, DefaultTokenExpiryNotice)
	c.ReplayTailCheck = defaults.Positive(c.ReplayTailCheck, DefaultReplayTailCheck)
	c.PublishTimeout = defaults.Positive(c.PublishTimeout, DefaultPublishTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
