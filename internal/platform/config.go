// Package platform assembles Herald's processes from their parts. The
// binary in cmd/herald only turns flags into a Config and calls Run; the
// end-to-end tests start the very same Platform.
package platform

import (
	"io"
	"log/slog"
	"time"
)

// Defaults for Config, documented in the README's flag table.
const (
	DefaultAddr           = "127.0.0.1:6001"
	DefaultDataDir        = "./.herald"
	DefaultDevAppID       = "app-id"
	DefaultDevAppKey      = "app-key"
	DefaultDevAppSecret   = "app-secret"
	DefaultDevAccountName = "Demo"
	// DevPlanID is the id and name of the unlimited plan dev mode seeds,
	// puts the demo account on, and makes --default-plan by default.
	DevPlanID                 = "dev"
	DefaultConfigSyncInterval = 30 * time.Second
	DefaultShutdownTimeout    = 10 * time.Second
	DefaultNATSReplicas       = 1
	// DefaultReadHeaderTimeout bounds slow-loris clients on every listener.
	DefaultReadHeaderTimeout = 10 * time.Second
)

// Files kept in the data folder by dev mode. The admin CLI reads
// AdminTokenFile and URLFile to find the dev server without flags.
const (
	masterKeyFile = "master.key"
	// AdminTokenFile holds the bootstrap admin token dev mode generated.
	AdminTokenFile = "admin.token"
	// URLFile holds the base URL dev mode last served on, with a
	// loopback address in place of an unspecified one (0.0.0.0, ::).
	URLFile = "url"
	natsDir = "nats"
)

// Mode selects which parts run in the process.
type Mode int

const (
	// ModeDev runs everything in one process: embedded NATS unless NATSURL
	// is set, a managed Postgres cluster unless DatabaseURL is set, and a
	// seeded demo app.
	ModeDev Mode = iota
	// ModeControlPlane runs the control plane against an external NATS
	// (NATSURL) and Postgres (DatabaseURL).
	ModeControlPlane
	// ModeGateway runs an edge gateway against an external NATS; it never
	// touches Postgres.
	ModeGateway
)

// Config configures a Platform. Zero fields take the documented defaults.
type Config struct {
	Mode Mode
	// Addr is the HTTP listen address; port 0 picks a free port.
	Addr string
	// DataDir holds dev mode's state (NATS store, master key, admin token).
	DataDir string
	// DatabaseURL is a Postgres URL; empty in dev mode means a managed
	// cluster in the data folder.
	DatabaseURL string
	// PGBinDir is where initdb and pg_ctl live; empty means search.
	PGBinDir string
	// NATSURL connects to an external NATS; empty in dev mode means an
	// embedded server.
	NATSURL string
	// NATSPort opens a TCP listener on the embedded NATS server: 0 means
	// none (in-process only), -1 a random loopback port.
	NATSPort int
	// NATSReplicas is the replica count of streams and buckets.
	NATSReplicas int
	// MasterKey is the base64 32-byte key that seals secrets at rest. Dev
	// mode generates one in the data folder when empty.
	MasterKey string
	// AdminToken is the bootstrap admin token. Dev mode generates one in
	// the data folder when empty.
	AdminToken string
	// Reset, in dev mode, deletes the data folder's managed PostgreSQL
	// cluster and Herald's files in the data folder before starting, so
	// that dev starts over. It cannot be combined with DatabaseURL.
	Reset bool

	DevAppID     string
	DevAppKey    string
	DevAppSecret string

	// DefaultPlan is the id or name of the plan new accounts get; empty
	// means none. A plan that does not exist at start-up is an error.
	DefaultPlan string

	// ConfigSyncInterval is the period of the full Postgres -> KV app
	// config reconcile.
	ConfigSyncInterval time.Duration
	// ShutdownTimeout bounds the graceful drain on stop.
	ShutdownTimeout time.Duration

	// GatewayID names this gateway cluster-wide; empty generates one per
	// start.
	GatewayID string
	// WSPathPrefix mounts the WebSocket endpoint under a prefix.
	WSPathPrefix string
	// Gateway tunes the edge; zero fields take the gateway's defaults.
	Gateway GatewayConfig
	// History tunes the history writer and reader; zero fields take the
	// defaults of controlplane/history.
	History HistoryConfig
	// Metering tunes usage metering (docs/billing.md).
	Metering MeteringConfig
	// Webhooks tunes the webhook dispatcher (docs/webhooks.md).
	Webhooks WebhooksConfig
	// WebhookSources tunes where channel webhook events come from
	// (docs/architecture.md, "Webhook events").
	WebhookSources WebhookSourcesConfig
	// Debug tunes the console's live debug stream.
	Debug DebugConfig
	// Limits are the listener's abuse limits (listener.go).
	Limits LimitsConfig
	// TLS serves the listener over HTTPS/WSS when set.
	TLS TLSConfig
	// MetricsAppLabels adds an app label to the per-app series
	// (--metrics-app-labels; docs/operations.md, "Per-app labels").
	MetricsAppLabels bool
	// Perf holds the profiling switches (docs/performance.md).
	Perf PerfConfig

	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Stdout receives the listening line and dev mode's banner; nil
	// discards them.
	Stdout io.Writer
}

// GatewayConfig holds the gateway's tunables that tests shorten.
type GatewayConfig struct {
	SendQueueBytes int
	PongTimeout    time.Duration
	// MaxClientMessageBytes, FrameReadTimeout and CloseLinger bound what
	// a client's frames can hold and how a close ends (gateway.Config).
	MaxClientMessageBytes int
	FrameReadTimeout      time.Duration
	CloseLinger           time.Duration
	ShutdownSpread        time.Duration
	KeepaliveInterval     time.Duration
	SSEHeartbeat          time.Duration
	// TokenExpiryNotice is how long before a token expires that its
	// connection is told (herald_internal:token_expiring).
	TokenExpiryNotice time.Duration
	// Presence lease and registry timings (see gateway/presence).
	MemberTTL         time.Duration
	GatewayTTL        time.Duration
	HeartbeatInterval time.Duration
	// ConnCountInterval is how often the gateway reports its per-app
	// connection counts for cluster-wide max_connections; unchanged
	// counts are re-reported every HeartbeatInterval and stop counting
	// after GatewayTTL (bus/conncount).
	ConnCountInterval time.Duration
	// StreamMaxAge is how long the message stream keeps messages: a buffer
	// for the history writer, not the tenant's retention.
	StreamMaxAge time.Duration
}

// MeteringConfig holds the usage metering switches (docs/billing.md).
type MeteringConfig struct {
	// QuotaClock is the clock of quota periods and publish rates (day and
	// month reset at 00:00 UTC on it); nil means time.Now. Tests move it.
	QuotaClock func() time.Time
	// Off turns metering off (--meter=false): nothing is counted,
	// flushed or folded. For benchmarks of what metering costs.
	Off bool
	// FlushInterval is how often each process flushes its meter
	// (--meter-flush-interval; billing.DefaultFlushInterval).
	FlushInterval time.Duration
	// FoldWait is how long the aggregators wait to fill a batch; tests
	// shorten it (billing.DefaultFoldWait).
	FoldWait time.Duration
	// AckWait is how long a batch held by a control plane that died
	// waits before another folds it (--meter-ack-wait;
	// billing.DefaultFoldAckWait): after a control plane crash, usage
	// may lag by this much.
	AckWait time.Duration
}

// WebhookSourcesConfig tunes the control plane's decider of channel
// webhook events (bus/webhookstate); zero fields take its defaults.
type WebhookSourcesConfig struct {
	// LeaveDelay is how long channel_vacated and member_removed wait
	// (--webhook-leave-delay); a return within it cancels the pair.
	LeaveDelay time.Duration
	// CountInterval is the shortest time between two subscription_count
	// events of a channel (--webhook-count-interval).
	CountInterval time.Duration
	// Settle is how long the decider waits past a delayed event's time
	// for updates still on their way; tests shorten it.
	Settle time.Duration
}

// HistoryConfig holds the history tunables that tests shorten.
type HistoryConfig struct {
	// AckWait is how long the batch of a writer that died waits before
	// JetStream delivers it again; a live writer renews its batch.
	AckWait time.Duration
	// BatchWait is how long the writer waits to fill a batch.
	BatchWait time.Duration
	// WriteConcurrency is how many batches the writer writes at once
	// (--history-write-concurrency).
	WriteConcurrency int
	// MaxStreamScan caps the messages a history read takes from the
	// stream above the writers' watermark.
	MaxStreamScan int
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.DevAppID == "" {
		c.DevAppID = DefaultDevAppID
	}
	if c.DevAppKey == "" {
		c.DevAppKey = DefaultDevAppKey
	}
	if c.DevAppSecret == "" {
		c.DevAppSecret = DefaultDevAppSecret
	}
	if c.NATSReplicas <= 0 {
		c.NATSReplicas = DefaultNATSReplicas
	}
	if c.ConfigSyncInterval <= 0 {
		c.ConfigSyncInterval = DefaultConfigSyncInterval
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
}
