// Package webhooks is the webhook dispatcher (docs/webhooks.md): a
// durable consumer of HERALD_WEBHOOK_EVENTS that matches each event with
// its app's endpoints (an operator event with the operator endpoints)
// and queues it in PostgreSQL before acknowledging
// it, and a sender that claims endpoints with leases, cuts their queued
// events into deliveries and sends each endpoint's deliveries in order,
// with retries, recording every attempt. Every control plane runs one;
// they share the consumer and split the endpoints.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero Config fields, documented in the README's flags
// table where they are flags.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultRetryWindow  = 5 * time.Minute
	DefaultFirstRetry   = time.Second
	DefaultMaxRetry     = 60 * time.Second
	DefaultDisableAfter = 24 * time.Hour
	DefaultLogRetention = 7 * 24 * time.Hour
	// DefaultConcurrency caps the endpoints one control plane sends to
	// at once (each endpoint sends one request at a time).
	DefaultConcurrency = 64
	// DefaultPollInterval is how often the sender looks for due work that
	// no local event announced (retries, other control planes' events).
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultBatchGap is the least time between two requests to a batch
	// endpoint.
	DefaultBatchGap = time.Second
	// DefaultConsumer names the durable consumer every control plane
	// shares.
	DefaultConsumer = "herald-webhooks"
	// DefaultAckWait is how long an event held by a control plane that
	// died waits before another takes it.
	DefaultAckWait = 30 * time.Second
	// DefaultFetchBatch and DefaultFetchWait shape the consumer's pulls.
	DefaultFetchBatch = 500
	DefaultFetchWait  = 100 * time.Millisecond
	// DefaultPruneInterval is how often finished deliveries older than the
	// retention are deleted, DefaultPruneBatch how many per statement.
	DefaultPruneInterval = time.Minute
	DefaultPruneBatch    = 5000
	// queueKeep is how long queued events stay after they were cut into a
	// delivery, to deduplicate a stream message delivered again (after
	// AckWait, when its acknowledgement was lost): far longer than
	// AckWait.
	queueKeep = time.Hour
	// DefaultVersion is the User-Agent version of a build without one.
	DefaultVersion = "dev"
	// leaseFactor: an endpoint's lease is this many request timeouts, so
	// that it outlives one request and the writes around it.
	leaseFactor = 3
	// retryWait bounds the wait before the consumer or the sender tries
	// again after a failure of NATS or PostgreSQL; it doubles with each
	// failure in a row up to maxRetryWait, and one failure in
	// retryLogEvery is logged.
	retryWait     = time.Second
	maxRetryWait  = 8 * time.Second
	retryLogEvery = 10
	// storeTimeout bounds the writes that must happen after a request
	// even when the dispatcher is stopping.
	storeTimeout = 10 * time.Second
)

// Store is what the dispatcher keeps in PostgreSQL (controlplane/postgres).
type Store interface {
	WebhookTargets(ctx context.Context, appIDs []string) ([]controlplane.WebhookEndpoint, error)
	OperatorWebhookTargets(ctx context.Context) ([]controlplane.WebhookEndpoint, error)
	EnqueueWebhookEvents(ctx context.Context, evs []controlplane.WebhookQueued) error
	ClaimWebhookEndpoints(ctx context.Context, owner string, lease time.Duration, limit int, minGap time.Duration, floor uint64) ([]string, error)
	ReleaseWebhookEndpoint(ctx context.Context, endpointID, owner string) error
	NextWebhookDelivery(ctx context.Context, q controlplane.WebhookNext) (controlplane.WebhookSend, bool, error)
	RecordWebhookAttempt(ctx context.Context, a controlplane.WebhookAttempt) (controlplane.WebhookAttemptResult, error)
	WebhookSigner(ctx context.Context, appID string) (key, secret string, err error)
	OperatorWebhookSigner(ctx context.Context, endpointID string) (key, secret string, err error)
	PruneWebhookDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
	PruneWebhookQueue(ctx context.Context, before time.Time) (int64, error)
	SettleDisabledWebhookEndpoints(ctx context.Context) error
	GetWebhookEndpoint(ctx context.Context, appID, id string) (controlplane.WebhookEndpoint, error)
	GetOperatorWebhookEndpoint(ctx context.Context, id string) (controlplane.WebhookEndpoint, error)
	RecordAudit(ctx context.Context, e controlplane.AuditEntry) error
}

// Config configures a Dispatcher. JS and Store are required.
type Config struct {
	JS    jetstream.JetStream
	Store Store
	// Publisher resyncs an app's config after an endpoint was disabled
	// automatically (its wanted event kinds change); nil skips it.
	Publisher controlplane.ConfigPublisher
	// Meter counts webhook_calls; nil counts nothing.
	Meter *billing.Meter
	// Replicas of the stream and the consumer.
	Replicas int
	// Version goes into User-Agent.
	Version string
	// AllowPrivate lets endpoints reach loopback, private and link-local
	// addresses (--webhook-allow-private; dev mode).
	AllowPrivate bool

	Timeout      time.Duration
	RetryWindow  time.Duration
	FirstRetry   time.Duration
	MaxRetry     time.Duration
	DisableAfter time.Duration
	LogRetention time.Duration
	Concurrency  int
	PollInterval time.Duration
	BatchGap     time.Duration
	// Lease is how long a control plane holds an endpoint it sends to
	// without renewing; zero means three Timeouts. A SIGKILLed control
	// plane's endpoints are taken over after it.
	Lease    time.Duration
	Consumer string
	AckWait  time.Duration
	// Owner names this dispatcher's leases; empty generates one.
	Owner string
	// Debug reports app endpoints' attempts to a watching console; nil
	// reports none.
	Debug DebugEmitter
	// Registerer receives the dispatcher's metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Dispatcher runs the consumer, the sender and the pruning of one
// control plane.
type Dispatcher struct {
	cfg    Config
	store  Store
	sender *sender
	log    *slog.Logger
	m      *metrics
	// wake tells the sender that events were queued.
	wake chan struct{}
	// floor is the consumer's ack floor, read after every fetch: the
	// sender cuts queued events only up to it (controlplane.WebhookNext).
	floor atomic.Uint64
}

// New validates cfg and returns a Dispatcher ready to Run.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.JS == nil || cfg.Store == nil {
		return nil, errors.New("webhooks: JS and Store are required")
	}
	cfg.Timeout = defaults.Positive(cfg.Timeout, DefaultTimeout)
	cfg.RetryWindow = defaults.Positive(cfg.RetryWindow, DefaultRetryWindow)
	cfg.FirstRetry = defaults.Positive(cfg.FirstRetry, DefaultFirstRetry)
	cfg.MaxRetry = max(defaults.Positive(cfg.MaxRetry, DefaultMaxRetry), cfg.FirstRetry)
	cfg.DisableAfter = defaults.Positive(cfg.DisableAfter, DefaultDisableAfter)
	cfg.LogRetention = defaults.Positive(cfg.LogRetention, DefaultLogRetention)
	cfg.Concurrency = defaults.Positive(cfg.Concurrency, DefaultConcurrency)
	cfg.PollInterval = defaults.Positive(cfg.PollInterval, DefaultPollInterval)
	cfg.BatchGap = defaults.Positive(cfg.BatchGap, DefaultBatchGap)
	cfg.Lease = defaults.Positive(cfg.Lease, leaseFactor*cfg.Timeout)
	cfg.AckWait = defaults.Positive(cfg.AckWait, DefaultAckWait)
	cfg.Replicas = defaults.Positive(cfg.Replicas, 1)
	if cfg.Consumer == "" {
		cfg.Consumer = DefaultConsumer
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		cfg.Owner = "wh-" + hex.EncodeToString(b)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	return &Dispatcher{
		cfg: cfg, store: cfg.Store, log: cfg.Logger, m: m,
		sender: newSender(cfg.Timeout, cfg.AllowPrivate, cfg.Version),
		wake:   make(chan struct{}, 1),
	}, nil
}

// Run consumes, sends and prunes until ctx is done; it returns ctx's
// error. Failures of NATS or PostgreSQL are logged and retried.
func (d *Dispatcher) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.consume(ctx) })
	g.Go(func() error { return d.send(ctx) })
	g.Go(func() error { return d.prune(ctx) })
	return g.Wait()
}

// notify wakes the sender without blocking.
func (d *Dispatcher) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// newRetryStreak paces the consumer's and the sender's retries.
func newRetryStreak() *backoff.Streak {
	return &backoff.Streak{Base: retryWait, Max: maxRetryWait, LogEvery: retryLogEvery}
}
