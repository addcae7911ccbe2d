package conncount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero Config fields.
const (
	// DefaultReportInterval is how often a gateway writes the counts that
	// changed: the window within which simultaneous bursts on several
	// gateways can overshoot a limit.
	DefaultReportInterval = time.Second
	// DefaultRefreshInterval is how often an unchanged count is written
	// again, so that readers can tell it from a dead gateway's.
	DefaultRefreshInterval = 5 * time.Second
	// DefaultStaleAfter is how old an entry may be and still count: a
	// dead gateway's connections stop counting this long after its last
	// write.
	DefaultStaleAfter = 15 * time.Second
	// DefaultRequestTimeout bounds one write or delete.
	DefaultRequestTimeout = 5 * time.Second
	// CleanupTimeout bounds deleting this gateway's keys when Run stops.
	CleanupTimeout = 5 * time.Second
)

// ErrAlreadyRunning is returned by a second concurrent call to Run.
var ErrAlreadyRunning = kvwatch.ErrAlreadyRunning

// Config configures a Counter. JS, GatewayID and Snapshot are required;
// zero durations take the defaults above.
type Config struct {
	// JS reaches the bucket, which EnsureBucket must have created.
	JS jetstream.JetStream
	// GatewayID is this gateway's id: its keys are written under it and
	// left out of Remote.
	GatewayID string
	// Snapshot returns this gateway's connection count per app; apps
	// without connections may be absent or 0. The map is read, never
	// kept or modified.
	Snapshot func() map[string]int
	// ReportInterval is how often changed counts are written.
	ReportInterval time.Duration
	// RefreshInterval is how often unchanged counts are written again.
	RefreshInterval time.Duration
	// StaleAfter is how old an entry may be and still count. It must
	// exceed RefreshInterval + ReportInterval, the most a live entry ages
	// between two writes.
	StaleAfter time.Duration
	// RequestTimeout bounds one write or delete.
	RequestTimeout time.Duration
	// Registerer receives the counter's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now is the clock that stamps written entries and judges staleness;
	// nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.JS == nil || c.Snapshot == nil {
		return c, errors.New("conncount: JS and Snapshot are required")
	}
	if err := gateways.ValidateGatewayID(c.GatewayID); err != nil {
		return c, fmt.Errorf("conncount: %w", err)
	}
	c.ReportInterval = defaults.Positive(c.ReportInterval, DefaultReportInterval)
	c.RefreshInterval = defaults.Positive(c.RefreshInterval, DefaultRefreshInterval)
	c.StaleAfter = defaults.Positive(c.StaleAfter, DefaultStaleAfter)
	c.RequestTimeout = defaults.Positive(c.RequestTimeout, DefaultRequestTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.StaleAfter <= c.RefreshInterval+c.ReportInterval {
		return c, fmt.Errorf("conncount: stale-after %s must exceed refresh %s plus report interval %s",
			c.StaleAfter, c.RefreshInterval, c.ReportInterval)
	}
	if c.RefreshInterval >= BucketMaxAge {
		return c, fmt.Errorf("conncount: refresh interval %s must be below the bucket's max age %s", c.RefreshInterval, BucketMaxAge)
	}
	return c, nil
}

// Counter reports this gateway's per-app connection counts to the bucket
// and sums the other gateways' counts from it. Remote is safe for
// concurrent use; Run owns the reporting and the watch.
type Counter struct {
	cfg     Config
	log     *slog.Logger
	remote  *remote
	watcher *kvwatch.Watcher
	report  *reporter
	metrics *metrics
}

// New returns a Counter whose Remote answers 0 until Run has loaded the
// bucket.
func New(cfg Config) (*Counter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Counter{cfg: cfg}
	c.watcher = kvwatch.New(kvwatch.Config{
		JS: cfg.JS, Bucket: Bucket, Logger: cfg.Logger,
		Load:  func(es []jetstream.KeyValueEntry) { c.remote.load(es) },
		Apply: func(es []jetstream.KeyValueEntry) { c.remote.apply(es) },
	})
	c.log = c.watcher.Logger().With(slog.String("gateway_id", cfg.GatewayID))
	c.remote = newRemote(cfg.GatewayID, c.log)
	c.report = &reporter{cfg: cfg, log: c.log, sent: map[string]Entry{}}
	m, err := newMetrics(cfg.Registerer, func() float64 {
		return float64(c.remote.total(cfg.Now(), cfg.StaleAfter))
	})
	if err != nil {
		return nil, fmt.Errorf("conncount: %w", err)
	}
	c.metrics = m
	c.report.failed = m.reportErrors
	return c, nil
}

// Remote returns how many connections of appID the other gateways
// reported within the stale-after window. It takes a read lock on one
// shard and touches only that app's entries.
func (c *Counter) Remote(appID string) int {
	return c.remote.sum(appID, c.cfg.Now(), c.cfg.StaleAfter)
}

// Ready is closed once Run has loaded the bucket for the first time.
func (c *Counter) Ready() <-chan struct{} { return c.watcher.Ready() }

// Run watches the bucket and reports this gateway's counts until ctx is
// done, then deletes this gateway's keys (bounded by CleanupTimeout) so
// that the others stop counting them at once, and returns nil. Failed
// writes are retried on the next report; a failed watch is retried by
// kvwatch, and Remote keeps answering from the last state meanwhile
// (entries going stale as they age).
func (c *Counter) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return c.watcher.Run(ctx) })
	eg.Go(func() error {
		c.loop(ctx)
		return nil
	})
	return eg.Wait()
}

// loop reports every ReportInterval and forgets stale remote entries
// every RefreshInterval.
func (c *Counter) loop(ctx context.Context) {
	tick := time.NewTicker(c.cfg.ReportInterval)
	defer tick.Stop()
	lastPrune := c.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
			c.report.deleteAll(cctx)
			cancel()
			return
		case <-tick.C:
		}
		c.report.round(ctx)
		if now := c.cfg.Now(); now.Sub(lastPrune) >= c.cfg.RefreshInterval {
			c.remote.prune(now, c.cfg.StaleAfter)
			lastPrune = now
		}
	}
}

// metrics are the counter's Prometheus series.
type metrics struct {
	remote       prometheus.GaugeFunc
	reportErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, remote func() float64) (*metrics, error) {
	const ns, sub = "herald", "conncount"
	m := &metrics{
		remote: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "remote_connections",
			Help: "Connections other gateways reported (fresh entries only), all apps together."}, remote),
		reportErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "report_errors_total",
			Help: "Report rounds that failed to write or delete a count; the next round retries."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, col := range []prometheus.Collector{m.remote, m.reportErrors} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}
