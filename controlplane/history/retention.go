package history

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/backoff"
)

// Defaults for zero RetentionConfig fields.
const (
	// DefaultRetentionInterval is the pause between passes that finish
	// their work.
	DefaultRetentionInterval = time.Minute
	// DefaultPurgeBatch is the most messages one delete removes: one short
	// transaction.
	DefaultPurgeBatch = 5000
	// DefaultMaxPurgeBatches caps the deletes of one pass.
	DefaultMaxPurgeBatches = 100
	// DefaultPurgeTimeout bounds one statement of a pass.
	DefaultPurgeTimeout = 30 * time.Second
)

// Purger is what the retention loop needs of the database;
// controlplane/postgres.Store implements it.
type Purger interface {
	// HistoryRetentions lists every app that has history, with its
	// retention (0 for apps that no longer exist).
	HistoryRetentions(ctx context.Context) ([]controlplane.HistoryRetention, error)
	// PurgeHistory deletes at most limit of appID's messages published
	// before before and returns how many it deleted.
	PurgeHistory(ctx context.Context, appID string, before time.Time, limit int) (int64, error)
}

// RetentionConfig configures a Retention. Store is required; zero fields
// take the defaults above.
type RetentionConfig struct {
	Store Purger
	// Interval is the pause after a pass that ends a sweep (or fails). A
	// pass that ran out of batches is followed by the next one at once.
	Interval time.Duration
	// BatchSize is the most messages one delete removes.
	BatchSize int
	// MaxBatches caps the deletes of one pass, over every app.
	MaxBatches int
	// Timeout bounds each statement.
	Timeout time.Duration
	// Now is the clock that expiry is measured against; nil means
	// time.Now.
	Now func() time.Time
	// Registerer receives the loop's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Retention deletes the messages each app no longer keeps: those older
// than its history_retention_s, all of them when that is 0 or the app is
// gone. Several control planes may run one each: deletes skip the rows
// another one holds.
//
// The work is organised in sweeps over every app that has history, each
// with one cutoff per app taken when the sweep starts, so that a sweep
// ends even while messages keep expiring. A pass runs at most MaxBatches
// deletes of the current sweep, taking the apps in turns: an app whose
// delete came back full goes to the back of the queue.
type Retention struct {
	cfg RetentionConfig
	m   *retentionMetrics

	mu sync.Mutex
	// queue holds the apps of the current sweep that may have expired
	// messages left; empty between sweeps.
	queue []purgeTarget
	// sweepApps is how many apps the current sweep started with.
	sweepApps int
}

// purgeTarget is one app of a sweep and its cutoff.
type purgeTarget struct {
	appID  string
	before time.Time
}

// PassResult says what one pass did.
type PassResult struct {
	// Apps is how many apps had history when the current sweep started.
	Apps int
	// Batches is how many deletes ran; at most MaxBatches.
	Batches int
	// Deleted is how many messages they removed; at most MaxBatches times
	// BatchSize.
	Deleted int64
	// More reports that the sweep is not over: the pass stopped at
	// MaxBatches with apps left to purge.
	More bool
}

// NewRetention returns a Retention.
func NewRetention(cfg RetentionConfig) (*Retention, error) {
	if cfg.Store == nil {
		return nil, errors.New("history retention: Store is required")
	}
	cfg.Interval = orDefault(cfg.Interval, DefaultRetentionInterval)
	cfg.BatchSize = orDefault(cfg.BatchSize, DefaultPurgeBatch)
	cfg.MaxBatches = orDefault(cfg.MaxBatches, DefaultMaxPurgeBatches)
	cfg.Timeout = orDefault(cfg.Timeout, DefaultPurgeTimeout)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newRetentionMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Retention{cfg: cfg, m: m}, nil
}

// Run runs passes until ctx is done, then returns ctx's error. A failed
// pass (the database is down) is logged and retried after the interval.
func (r *Retention) Run(ctx context.Context) error {
	for {
		res, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			r.cfg.Logger.Warn("history retention pass failed", "err", err)
		}
		if err != nil || !res.More {
			if !backoff.Sleep(ctx, backoff.Jitter(r.cfg.Interval)) {
				return ctx.Err()
			}
		}
	}
}

// Pass runs one pass: up to MaxBatches deletes of the current sweep,
// starting a sweep when none is under way. Each delete is its own short
// transaction, so a failed pass keeps what it deleted; the app it failed
// on is tried again by the next pass.
func (r *Retention) Pass(ctx context.Context) (PassResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m.passes.Inc()
	if len(r.queue) == 0 {
		if err := r.startSweep(ctx); err != nil {
			r.m.errors.Inc()
			return PassResult{}, err
		}
	}
	res := PassResult{Apps: r.sweepApps}
	for len(r.queue) > 0 && res.Batches < r.cfg.MaxBatches {
		t := r.queue[0]
		n, err := r.purge(ctx, t.appID, t.before)
		res.Batches++
		res.Deleted += n
		r.m.purged.Add(float64(n))
		if err != nil {
			r.m.errors.Inc()
			res.More = true
			return res, err
		}
		r.queue = r.queue[1:]
		if n == int64(r.cfg.BatchSize) {
			r.queue = append(r.queue, t)
		}
	}
	res.More = len(r.queue) > 0
	return res, nil
}

// startSweep queues every app that has history with its cutoff.
func (r *Retention) startSweep(ctx context.Context) error {
	apps, err := r.retentions(ctx)
	if err != nil {
		return err
	}
	now := r.cfg.Now()
	r.queue = make([]purgeTarget, len(apps))
	for i, a := range apps {
		r.queue[i] = purgeTarget{appID: a.AppID, before: now.Add(-a.Retention)}
	}
	r.sweepApps = len(apps)
	return nil
}

func (r *Retention) retentions(ctx context.Context) ([]controlplane.HistoryRetention, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	return r.cfg.Store.HistoryRetentions(ctx)
}

func (r *Retention) purge(ctx context.Context, appID string, before time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	return r.cfg.Store.PurgeHistory(ctx, appID, before, r.cfg.BatchSize)
}
