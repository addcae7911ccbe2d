// Package kvwatch keeps a process's local copy of a NATS KV bucket up to
// date. Several caches (app configs, signing keys, connection counts)
// mirror a bucket the same way, and the hard part is the same for all of
// them: wait for the connection, drop the watcher when the connection
// drops and watch again with a full reload, bound the setup, drain the
// watcher on stop and back off between attempts. That loop lives here,
// once; a cache supplies only how to fold entries into its own snapshot.
package kvwatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/backoff"
)

// Defaults for zero Config fields.
const (
	// DefaultMinBackoff is the first delay before watching again after
	// the watch failed or the connection dropped.
	DefaultMinBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff caps the delay between failed attempts.
	DefaultMaxBackoff = 5 * time.Second
	// DefaultSetupTimeout bounds opening the bucket and creating the
	// watcher in one attempt.
	DefaultSetupTimeout = 5 * time.Second
)

// MaxBatch bounds how many queued updates one Apply call receives: a
// cache copies its snapshot once per call, so a burst is folded in at
// once, but a long burst still publishes now and then.
const MaxBatch = 1024

var (
	// ErrAlreadyRunning is returned by a second concurrent call to Run.
	ErrAlreadyRunning = errors.New("kvwatch: already running")
	// ErrConnClosed is returned by Run when the NATS connection is closed
	// for good: no later watch can succeed.
	ErrConnClosed = errors.New("kvwatch: nats connection closed")
)

// Config configures a Watcher. JS, Bucket, Load and Apply are required;
// zero durations take the defaults above.
type Config struct {
	// JS reaches the bucket. Its connection's status tells the watcher
	// when to watch again.
	JS jetstream.JetStream
	// Bucket is the KV bucket to watch.
	Bucket string
	// Logger defaults to discarding. The watcher adds the bucket's name.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the jittered, doubling delay between
	// watch attempts.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// SetupTimeout bounds opening the bucket and starting a watcher.
	SetupTimeout time.Duration
	// Load receives the live entries when a watch has read the bucket:
	// the latest value of every key, deletes left out, in watch order.
	// Every watch, the first and each one after a failure, loads the
	// whole bucket, so Load replaces the state: deletes missed while no
	// watch ran apply that way.
	Load func(entries []jetstream.KeyValueEntry)
	// Apply receives the updates after a load, in order, puts and deletes
	// alike, in batches of 1 to MaxBatch. The batch is not reused.
	Apply func(batch []jetstream.KeyValueEntry)
}

// Watcher runs the watch loop of one bucket. Load and Apply are called
// on Run's goroutine, one at a time, without locks held; updates wait for
// them, so they must return quickly.
type Watcher struct {
	cfg       Config
	log       *slog.Logger
	ready     chan struct{}
	readyOnce sync.Once
	running   atomic.Bool
}

// New returns a watcher that does nothing until Run.
func New(cfg Config) *Watcher {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.SetupTimeout <= 0 {
		cfg.SetupTimeout = DefaultSetupTimeout
	}
	return &Watcher{
		cfg:   cfg,
		log:   cfg.Logger.With(slog.String("bucket", cfg.Bucket)),
		ready: make(chan struct{}),
	}
}

// Ready is closed once the first Load has returned.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Logger returns the watcher's logger, which names the bucket, so that
// Load and Apply log with the same attributes.
func (w *Watcher) Logger() *slog.Logger { return w.log }

// Run watches the bucket until ctx is done, when it returns nil. When the
// watch fails or the connection drops, it waits (jittered, doubling
// backoff) and watches again, which calls Load with the whole bucket; the
// caller's state stays as it was in between. Run returns an error only if
// the config is incomplete, Run is already running (ErrAlreadyRunning) or
// the connection is closed for good (ErrConnClosed).
//
// Stopping a watcher deletes its consumer with a JetStream API request, so
// when the server is unreachable Run can take up to nats.go's API timeout
// (5 s) to return after ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.cfg.validate(); err != nil {
		return err
	}
	if !w.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer w.running.Store(false)

	nc := w.cfg.JS.Conn()
	status := nc.StatusChanged(nats.CONNECTED, nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(status)

	delay := w.cfg.MinBackoff
	for {
		if err := waitConnected(ctx, nc, status); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		began := time.Now()
		loaded, err := w.watch(ctx, status)
		if ctx.Err() != nil {
			return nil
		}
		// A watch that loaded and lived a while was healthy: start the
		// backoff over, so that a reconnect is followed by a quick reload.
		if loaded && time.Since(began) >= w.cfg.MaxBackoff {
			delay = w.cfg.MinBackoff
		}
		wait := backoff.Jitter(delay)
		w.log.Warn("kv watch ended; watching again", slog.Any("error", err), slog.Duration("after", wait))
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
		delay = min(2*delay, w.cfg.MaxBackoff)
	}
}

func (c Config) validate() error {
	switch {
	case c.JS == nil:
		return errors.New("kvwatch: Config.JS is required")
	case c.Bucket == "":
		return errors.New("kvwatch: Config.Bucket is required")
	case c.Load == nil || c.Apply == nil:
		return errors.New("kvwatch: Config.Load and Config.Apply are required")
	}
	return nil
}

func (w *Watcher) markReady() {
	w.readyOnce.Do(func() { close(w.ready) })
}
