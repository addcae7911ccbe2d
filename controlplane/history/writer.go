package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/backoff"
)

// Defaults for zero Config fields (docs/nats.md, "Consumers").
const (
	// DefaultConsumer is the durable consumer every control plane shares.
	DefaultConsumer = "herald-history"
	// DefaultBatchSize is the most messages fetched and written at once.
	DefaultBatchSize = 1000
	// DefaultConcurrency is how many batches one writer writes at once,
	// each fetched, written and acknowledged by a loop of its own on the
	// shared consumer: while one batch is in COPY, the next is fetched and
	// decoded, and PostgreSQL works on two. BenchmarkWriterConcurrency on
	// 2 cores against a durable cluster, medians: 1 loop 41,000 msgs/s,
	// 2 52,000, 3 65,000, 4 63,000 (docs/performance.md, "History writer
	// (issue 24)"); the lag at a steady rate is no worse. Each loop uses
	// one connection of the pool while it writes.
	DefaultConcurrency = 3
	// DefaultMaxWait is the pause after a fetch that did not fill its
	// batch (the writer has caught up) before the next. It is the writer's
	// added latency when traffic is light.
	DefaultMaxWait = 100 * time.Millisecond
	// DefaultMaxAckPending caps the messages delivered and not yet
	// acknowledged, across every writer sharing the consumer: room for
	// the full batches of six control planes' DefaultConcurrency loops
	// (the loops of a seventh would wait, not fail).
	DefaultMaxAckPending = 20000
	// DefaultAckWait is how long JetStream waits for an acknowledgement
	// before delivering a message again. A writer renews its batch while
	// writing it, so only a writer that died gives its batch away: this
	// is how long the batch of a crashed writer waits to be stored (the
	// history API reads it from the stream meanwhile).
	DefaultAckWait = 5 * time.Second
	// DefaultReplicas suits a single NATS server; clusters use 3.
	DefaultReplicas = 1
	// DefaultRetryWait is the first pause after a failure; it doubles up
	// to DefaultMaxRetryWait.
	DefaultRetryWait = 100 * time.Millisecond
	// DefaultMaxRetryWait caps the pause between retries, and so the delay
	// between PostgreSQL coming back and the writer noticing.
	DefaultMaxRetryWait = 5 * time.Second
	// DefaultWriteTimeout bounds one write of one batch.
	DefaultWriteTimeout = 15 * time.Second
)

// retryLogEvery is how often, in attempts, a write that keeps failing is
// logged again after its first failure.
const retryLogEvery = 10

// Sink stores history; controlplane/postgres.Store implements it.
type Sink interface {
	// WriteHistory stores a batch atomically, skipping messages already
	// stored (same stream and serial), and returns how many were new.
	WriteHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error)
}

// AppSource looks up app configs (the config KV cache).
type AppSource interface {
	App(id string) (*channels.AppConfig, bool)
}

// Config configures a Writer. JS and Sink are required; zero fields take
// the defaults above.
type Config struct {
	// JS is a JetStream context on the connection for JetStream traffic.
	JS jetstream.JetStream
	// Sink is where messages go.
	Sink Sink
	// Stream is the message stream to copy; empty means shard 0's.
	Stream string
	// Consumer is the durable consumer's name.
	Consumer string
	// Replicas is the consumer's replica count: the platform's NATS
	// replicas.
	Replicas int
	// Apps, when set, lets the writer skip the messages of apps whose
	// history_retention_s is 0. Unknown apps are written (the retention
	// loop removes what belongs to no app).
	Apps      AppSource
	BatchSize int
	// Concurrency is how many batches are written at once (see
	// DefaultConcurrency).
	Concurrency   int
	MaxWait       time.Duration
	MaxAckPending int
	AckWait       time.Duration
	RetryWait     time.Duration
	MaxRetryWait  time.Duration
	WriteTimeout  time.Duration
	// Registerer receives the writer's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now is the clock of the lag metrics; nil means time.Now.
	Now func() time.Time
}

// Writer copies one message stream into the history. Run it once per
// process and stream; several processes may run one each. Its
// Concurrency loops share the consumer like writers of several processes
// do: batches commit in any order, and the watermark (the ack floor) only
// passes a message once it is acknowledged, so after its commit.
type Writer struct {
	cfg      Config
	log      *slog.Logger
	m        *writerMetrics
	progress *progress
}

// NewWriter returns a Writer; it touches neither NATS nor PostgreSQL.
func NewWriter(cfg Config) (*Writer, error) {
	if cfg.JS == nil || cfg.Sink == nil {
		return nil, errors.New("history writer: JS and Sink are required")
	}
	if cfg.Stream == "" {
		cfg.Stream = stream.StreamName(0)
	}
	if cfg.Consumer == "" {
		cfg.Consumer = DefaultConsumer
	}
	cfg.Replicas = orDefault(cfg.Replicas, DefaultReplicas)
	cfg.BatchSize = orDefault(cfg.BatchSize, DefaultBatchSize)
	cfg.Concurrency = orDefault(cfg.Concurrency, DefaultConcurrency)
	cfg.MaxWait = orDefault(cfg.MaxWait, DefaultMaxWait)
	cfg.MaxAckPending = orDefault(cfg.MaxAckPending, DefaultMaxAckPending)
	cfg.AckWait = orDefault(cfg.AckWait, DefaultAckWait)
	cfg.RetryWait = orDefault(cfg.RetryWait, DefaultRetryWait)
	cfg.MaxRetryWait = max(orDefault(cfg.MaxRetryWait, DefaultMaxRetryWait), cfg.RetryWait)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	if cfg.MaxWait > cfg.AckWait/2 {
		// Deliveries wait in a fetch for up to MaxWait before the writer
		// starts renewing them.
		return nil, fmt.Errorf("history writer: the batch wait (%s) must be at most half the ack wait (%s)", cfg.MaxWait, cfg.AckWait)
	}
	if cfg.Concurrency*cfg.BatchSize > cfg.MaxAckPending {
		// The loops beyond it would wait for the others' acknowledgements.
		return nil, fmt.Errorf("history writer: %d batches of %d exceed the %d messages pending acknowledgement",
			cfg.Concurrency, cfg.BatchSize, cfg.MaxAckPending)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newWriterMetrics(cfg.Registerer, cfg.Stream, cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Writer{cfg: cfg, log: cfg.Logger.With("stream", cfg.Stream), m: m, progress: newProgress(m)}, nil
}

// consumerConfig is the durable consumer every writer of the stream
// shares. Every message is delivered, from the start of the stream, until
// it is acknowledged.
func (w *Writer) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       w.cfg.Consumer,
		Description:   "Herald history writer",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       w.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: w.cfg.MaxAckPending,
		Replicas:      w.cfg.Replicas,
	}
}

// Run copies the stream until ctx is done, then returns ctx's error. Each
// of its loops creates the consumer (again, when it disappears) and rides
// out NATS and PostgreSQL outages, retrying with backoff; it returns no
// other error.
func (w *Writer) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for range w.cfg.Concurrency {
		g.Go(func() error { return w.loop(ctx) })
	}
	return g.Wait()
}

// loop is one of the writer's fetch-and-write loops.
func (w *Writer) loop(ctx context.Context) error {
	wait := w.cfg.RetryWait
	for {
		cons, err := w.cfg.JS.CreateOrUpdateConsumer(ctx, w.cfg.Stream, w.consumerConfig())
		if err == nil {
			wait = w.cfg.RetryWait
			err = w.consume(ctx, cons)
		} else {
			w.m.errors.WithLabelValues(opConsumer).Inc()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.log.Warn("history consumer unavailable; retrying", "err", err, "wait", wait)
		if !backoff.Sleep(ctx, backoff.Jitter(wait)) {
			return ctx.Err()
		}
		wait = min(2*wait, w.cfg.MaxRetryWait)
	}
}

// consume fetches and writes batches until ctx is done or a fetch fails;
// the caller then sets the consumer up again.
func (w *Writer) consume(ctx context.Context, cons jetstream.Consumer) error {
	// One batch slice for the loop: an idle writer fetches several times
	// a second, and process keeps none of it.
	msgs := make([]jetstream.Msg, 0, w.cfg.BatchSize)
	for ctx.Err() == nil {
		// Paced rather than a fetch that waits MaxWait for its batch: see
		// stream.FetchPaced.
		batch, err := stream.FetchPaced(cons, w.cfg.BatchSize, w.cfg.MaxWait)
		if err != nil {
			w.m.errors.WithLabelValues(opFetch).Inc()
			return fmt.Errorf("fetch: %w", err)
		}
		clear(msgs)
		msgs = msgs[:0]
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) > 0 {
			if err := w.process(ctx, msgs); err != nil {
				return err
			}
		} else if batch.Error() == nil {
			// Nothing left for this writer.
			w.progress.caughtUp()
		}
		if err := batch.Error(); err != nil {
			w.m.errors.WithLabelValues(opFetch).Inc()
			return fmt.Errorf("fetch: %w", err)
		}
		if !stream.Pause(ctx, len(msgs), w.cfg.BatchSize, w.cfg.MaxWait) {
			break
		}
	}
	return ctx.Err()
}

// process writes one fetched batch and acknowledges it after the commit.
// It returns only when that is done, or with ctx's error (then the batch
// is handed back for redelivery).
func (w *Writer) process(ctx context.Context, msgs []jetstream.Msg) error {
	rows, bad := w.decode(msgs)
	first, _ := msgs[0].Metadata()
	last, _ := msgs[len(msgs)-1].Metadata()
	if first != nil && last != nil {
		// The batch counts toward the lag until it is committed or given
		// back, whatever the other loops commit meanwhile.
		defer w.progress.done(w.progress.fetched(len(msgs), first.Timestamp, last.Timestamp, last.NumPending))
	}
	if len(rows) > 0 {
		if err := w.store(ctx, rows, msgs); err != nil {
			for _, m := range msgs {
				_ = m.Nak()
			}
			return err
		}
	}
	for i, m := range msgs {
		var err error
		if bad[i] {
			err = m.Term()
		} else {
			err = m.Ack()
		}
		if err != nil {
			// Redelivered later, and skipped as a duplicate.
			w.log.Debug("history ack failed", "err", err)
		}
	}
	w.m.batches.Inc()
	return nil
}

// decode turns deliveries into rows. bad marks the deliveries that cannot
// be stored, which are acknowledged (terminated) with the batch rather than
// left to block it forever; messages of apps that keep no history are
// dropped from rows without being bad.
func (w *Writer) decode(msgs []jetstream.Msg) (rows []controlplane.HistoryMessage, bad []bool) {
	rows = make([]controlplane.HistoryMessage, 0, len(msgs))
	bad = make([]bool, len(msgs))
	for i, m := range msgs {
		d, err := stream.DecodeConsumed(m)
		if err == nil {
			err = storable(&d)
		}
		if err != nil {
			bad[i] = true
			w.m.skipped.WithLabelValues(skipMalformed).Inc()
			w.log.Warn("history skips a malformed message", "serial", d.Serial, "err", err)
			continue
		}
		if w.keepsNothing(d.AppID) {
			w.m.skipped.WithLabelValues(skipRetention).Inc()
			continue
		}
		rows = append(rows, controlplane.HistoryMessage{
			Stream: w.cfg.Stream, Serial: d.Serial, AppID: d.AppID, Channel: d.Channel, Event: d.Event,
			Data: d.Data, UserID: d.UserID, PublishedAt: d.Time,
		})
	}
	return rows, bad
}

// keepsNothing reports whether appID is known to keep no history.
func (w *Writer) keepsNothing(appID string) bool {
	if w.cfg.Apps == nil {
		return false
	}
	app, ok := w.cfg.Apps.App(appID)
	return ok && app.Settings.HistoryRetentionS == 0
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
