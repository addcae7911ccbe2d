package main

import (
	"flag"
	"strconv"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/conncount"
	"github.com/heraldhq/herald/bus/debugstream"
	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/platform"
)

// Defaults of the logging flags.
const (
	defaultLogLevel  = "info"
	defaultLogFormat = "text"
)

// bindServerFlags declares the flags of a server command on fs, writing
// into cfg. The README's flag table lists every one of them (a test checks).
func bindServerFlags(fs *flag.FlagSet, cfg *platform.Config, mode platform.Mode) *logOptions {
	lo := &logOptions{}
	fs.StringVar(&cfg.Addr, "addr", platform.DefaultAddr, "HTTP listen address (port 0 picks a free port)")
	if mode != platform.ModeGateway {
		fs.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL"+devOnly(mode, "; empty runs a managed cluster in the data folder"))
	}
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "NATS URL"+devOnly(mode, "; empty runs an embedded server"))
	fs.IntVar(&cfg.NATSReplicas, "nats-replicas", platform.DefaultNATSReplicas, "replicas of Herald's streams and buckets (3 in a NATS cluster)")
	fs.StringVar(&cfg.MasterKey, "master-key", "", "base64 32-byte key that encrypts secrets at rest"+devOnly(mode, "; dev generates one in the data folder"))
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "bootstrap admin API token"+devOnly(mode, "; dev generates one in the data folder"))
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", platform.DefaultShutdownTimeout, "bound on each graceful shutdown step")
	fs.StringVar(&lo.level, "log-level", defaultLogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&lo.format, "log-format", defaultLogFormat, "log format: text or json")
	fs.BoolVar(&cfg.MetricsAppLabels, "metrics-app-labels", false, "add an app label to the per-app metrics (connections, deliveries, slow-consumer closes, quota refusals): one series per app each, so mind the cardinality (docs/operations.md)")
	bindMeterFlags(fs, cfg)
	bindDebugFlags(fs, cfg, mode)
	bindPerfFlags(fs, cfg)
	if mode != platform.ModeGateway {
		fs.DurationVar(&cfg.ConfigSyncInterval, "config-sync-interval", platform.DefaultConfigSyncInterval, "period of the full app config reconcile from Postgres to NATS")
		fs.StringVar(&cfg.DefaultPlan, "default-plan", devOnly(mode, platform.DevPlanID), "id or name of the plan new accounts get (empty: none"+devOnly(mode, "; dev seeds the unlimited plan dev")+")")
		bindHistoryFlags(fs, cfg)
		bindWebhookFlags(fs, cfg, mode)
		bindWebhookSourceFlags(fs, cfg)
	}
	if mode != platform.ModeControlPlane {
		bindGatewayFlags(fs, cfg)
	}
	if mode == platform.ModeDev {
		bindDevFlags(fs, cfg)
	}
	bindListenerFlags(fs, cfg, mode)
	return lo
}

func bindMeterFlags(fs *flag.FlagSet, cfg *platform.Config) {
	fs.BoolFunc("meter", "usage metering: true (default) or false, which counts, flushes and folds nothing (docs/billing.md)", func(v string) error {
		on, err := strconv.ParseBool(v)
		cfg.Metering.Off = !on
		return err
	})
	fs.DurationVar(&cfg.Metering.FlushInterval, "meter-flush-interval", billing.DefaultFlushInterval, "how often each process flushes its usage counts; usage is readable within twice this")
	fs.DurationVar(&cfg.Metering.AckWait, "meter-ack-wait", billing.DefaultFoldAckWait, "how long a usage batch held by a control plane that died waits before another control plane folds it")
}

func bindDebugFlags(fs *flag.FlagSet, cfg *platform.Config, mode platform.Mode) {
	fs.IntVar(&cfg.Debug.EventsPerSecond, "debug-events-per-second", debugstream.DefaultEventsPerSecond, "cap on an app's live debug events per second, per process and per console; beyond it they are counted as dropped")
	fs.DurationVar(&cfg.Debug.InterestTTL, "debug-interest-ttl", debugstream.DefaultInterestTTL, "how long a console's interest in an app outlives its last renewal (renewed every third of it)")
	if mode != platform.ModeGateway {
		fs.DurationVar(&cfg.Debug.Heartbeat, "debug-heartbeat", api.DefaultDebugHeartbeat, "period of the comment lines that keep an idle debug stream open through proxies")
	}
}

func bindHistoryFlags(fs *flag.FlagSet, cfg *platform.Config) {
	fs.DurationVar(&cfg.History.AckWait, "history-ack-wait", history.DefaultAckWait, "how long the batch of a history writer that died waits to be delivered again (live writers renew theirs)")
	fs.DurationVar(&cfg.History.BatchWait, "history-batch-wait", history.DefaultMaxWait, "the history writer's pause after a fetch that did not fill its batch; at most half of --history-ack-wait")
	fs.IntVar(&cfg.History.WriteConcurrency, "history-write-concurrency", history.DefaultConcurrency, "how many batches the history writer writes to PostgreSQL at once, each on a pool connection while it writes")
	fs.IntVar(&cfg.History.MaxStreamScan, "history-max-stream-scan", history.DefaultMaxStreamScan, "most messages one history read takes from the stream above what the writer stored; past it the read is answered 503")
}

func bindWebhookFlags(fs *flag.FlagSet, cfg *platform.Config, mode platform.Mode) {
	fs.BoolVar(&cfg.Webhooks.AllowPrivate, "webhook-allow-private", mode == platform.ModeDev, "let webhook endpoints reach loopback, private, link-local and metadata addresses (on in dev)")
	fs.DurationVar(&cfg.Webhooks.Timeout, "webhook-timeout", webhooks.DefaultTimeout, "how long a webhook request may take before it counts as failed and is retried")
	fs.DurationVar(&cfg.Webhooks.RetryWindow, "webhook-retry-window", webhooks.DefaultRetryWindow, "how long a failing webhook delivery is retried before it is marked failed")
	fs.DurationVar(&cfg.Webhooks.DisableAfter, "webhook-disable-after", webhooks.DefaultDisableAfter, "an endpoint that failed every delivery for this long is disabled")
	fs.DurationVar(&cfg.Webhooks.AckWait, "webhook-ack-wait", webhooks.DefaultAckWait, "how long webhook events fetched by a control plane that died wait before another control plane takes them; a channel's later events wait with them")
	fs.DurationVar(&cfg.Webhooks.LogRetention, "webhook-log-retention", webhooks.DefaultLogRetention, "how long finished webhook deliveries stay in the delivery log")
}

func bindWebhookSourceFlags(fs *flag.FlagSet, cfg *platform.Config) {
	fs.DurationVar(&cfg.WebhookSources.LeaveDelay, "webhook-leave-delay", webhookstate.DefaultLeaveDelay, "how long channel_vacated and member_removed webhooks wait; a return within it cancels the pair")
	fs.DurationVar(&cfg.WebhookSources.CountInterval, "webhook-count-interval", webhookstate.DefaultCountInterval, "shortest time between two subscription_count webhooks of one channel")
}

func bindGatewayFlags(fs *flag.FlagSet, cfg *platform.Config) {
	fs.StringVar(&cfg.GatewayID, "gateway-id", "", "this gateway's cluster-wide id (default: a new random id per start)")
	fs.StringVar(&cfg.WSPathPrefix, "ws-path-prefix", "", "mount the WebSocket endpoint under this prefix (/prefix/app/{key})")
	fs.IntVar(&cfg.Gateway.SendQueueBytes, "send-queue-bytes", gateway.DefaultSendQueueBytes, "per-connection send queue; a client over it is closed with 4100")
	fs.DurationVar(&cfg.Gateway.PongTimeout, "pong-timeout", gateway.DefaultPongTimeout, "how long a client may take to answer the server's ping before 4201")
	fs.IntVar(&cfg.Gateway.MaxClientMessageBytes, "max-client-message-bytes", gateway.DefaultMaxClientMessageBytes, "ceiling on a client WebSocket message; each connection's cap is its app's max_message_bytes plus envelope under it, and a larger frame is refused from its header with 1009")
	fs.DurationVar(&cfg.Gateway.FrameReadTimeout, "frame-read-timeout", gateway.DefaultFrameReadTimeout, "how long a client frame that started arriving may take to complete before the connection is closed with 1008 (negative: no limit)")
	fs.DurationVar(&cfg.Gateway.CloseLinger, "close-linger", gateway.DefaultCloseLinger, "after a close frame, how long the gateway keeps reading and discarding the client's input before closing the socket, so that in-flight frames cannot reset it (negative: close at once)")
	fs.DurationVar(&cfg.Gateway.TokenExpiryNotice, "token-expiry-notice", gateway.DefaultTokenExpiryNotice, "how long before a connection's token expires that "+protocol.EventTokenExpiring+" is sent (at most half the token's lifetime)")
	fs.DurationVar(&cfg.Gateway.ConnCountInterval, "conn-count-interval", conncount.DefaultReportInterval, "how often this gateway reports its per-app connection counts for cluster-wide max_connections")
	fs.DurationVar(&cfg.Gateway.ShutdownSpread, "shutdown-spread", gateway.DefaultShutdownSpread, "window over which shutdown closes connections with 4200")
}

func bindDevFlags(fs *flag.FlagSet, cfg *platform.Config) {
	fs.StringVar(&cfg.DataDir, "data-dir", platform.DefaultDataDir, "dev mode's data folder")
	fs.BoolVar(&cfg.Reset, "reset", false, "start over: delete the data folder's managed PostgreSQL cluster and Herald's files in it (master key, admin token, NATS store) first")
	fs.IntVar(&cfg.NATSPort, "nats-port", 0, "open a NATS TCP listener on this port for the nats CLI (0: none, -1: random)")
	fs.StringVar(&cfg.PGBinDir, "pg-bin-dir", "", "folder of initdb and pg_ctl (default: search PATH and /usr/lib/postgresql/*/bin)")
	fs.StringVar(&cfg.DevAppID, "dev-app-id", platform.DefaultDevAppID, "id of the seeded demo app")
	fs.StringVar(&cfg.DevAppKey, "dev-app-key", platform.DefaultDevAppKey, "key of the seeded demo app")
	fs.StringVar(&cfg.DevAppSecret, "dev-app-secret", platform.DefaultDevAppSecret, "secret of the seeded demo app")
}

func devOnly(mode platform.Mode, s string) string {
	if mode == platform.ModeDev {
		return s
	}
	return ""
}
