package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/stream"
)

// Defaults for zero WatermarkConfig fields.
const (
	// DefaultWatermarkTTL is how long a watermark read from JetStream is
	// reused. A stale watermark is only lower than the true one, which
	// costs a slightly longer read from the stream, never a message.
	DefaultWatermarkTTL = 250 * time.Millisecond
	// DefaultWatermarkTimeout bounds one read of the consumer's state.
	DefaultWatermarkTimeout = 2 * time.Second
)

// WatermarkConfig configures a Watermark. JS is required; zero fields take
// the defaults above and the Writer's.
type WatermarkConfig struct {
	JS jetstream.JetStream
	// Stream and Consumer name the writer's consumer; empty means shard
	// 0's stream and DefaultConsumer.
	Stream   string
	Consumer string
	TTL      time.Duration
	Timeout  time.Duration
	// Registerer receives the watermark gauge; nil registers none.
	Registerer prometheus.Registerer
	// Now defaults to time.Now.
	Now func() time.Time
}

// Watermark is the serial at or below which every message of the stream
// is stored in PostgreSQL (or deliberately left out: apps that keep no
// history, malformed messages). It is the ack floor of the writers' shared
// durable consumer: a writer acknowledges a message only after the commit
// that stored it, so every message at or below the floor is stored,
// whichever control plane wrote it. Above it, some messages may be stored
// and others not yet (a batch in flight, or one a dead writer held until
// JetStream delivers it again).
type Watermark struct {
	cfg WatermarkConfig

	// mu is held across a refresh, so that concurrent readers of a stale
	// value wait for one request instead of each sending their own.
	mu    sync.Mutex
	value uint64
	at    time.Time
}

// NewWatermark returns a Watermark; it touches nothing until Get.
func NewWatermark(cfg WatermarkConfig) (*Watermark, error) {
	if cfg.JS == nil {
		return nil, errors.New("history watermark: JS is required")
	}
	if cfg.Stream == "" {
		cfg.Stream = stream.StreamName(0)
	}
	if cfg.Consumer == "" {
		cfg.Consumer = DefaultConsumer
	}
	cfg.TTL = orDefault(cfg.TTL, DefaultWatermarkTTL)
	cfg.Timeout = orDefault(cfg.Timeout, DefaultWatermarkTimeout)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Watermark{cfg: cfg}
	if cfg.Registerer != nil {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Subsystem: subsystem,
			Name:        "stored_through_serial",
			Help:        "Serial at or below which every message of the stream is stored (the history writers' ack floor).",
			ConstLabels: prometheus.Labels{"stream": cfg.Stream}}, w.gauge)
		if err := cfg.Registerer.Register(g); err != nil {
			return nil, fmt.Errorf("register history watermark metric: %w", err)
		}
	}
	return w, nil
}

// Get returns the watermark, at most TTL old. A consumer that does not
// exist (yet) has stored nothing: 0. An error means NATS did not answer.
func (w *Watermark) Get(ctx context.Context) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.cfg.Now()
	if !w.at.IsZero() && now.Sub(w.at) < w.cfg.TTL {
		return w.value, nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	var floor uint64
	cons, err := w.cfg.JS.Consumer(ctx, w.cfg.Stream, w.cfg.Consumer)
	switch {
	case err == nil:
		floor = cons.CachedInfo().AckFloor.Stream
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
	default:
		return 0, fmt.Errorf("history watermark: %w: %w", stream.ErrUnavailable, err)
	}
	// The floor only moves up, except when the consumer is made anew (then
	// it restarts at 0 and the writer stores the stream again); a new
	// consumer leader may report a floor a little older, which is safe.
	w.value, w.at = floor, now
	return floor, nil
}

// gauge reads the watermark for the metric; 0 when NATS does not answer.
func (w *Watermark) gauge() float64 {
	v, err := w.Get(context.Background())
	if err != nil {
		return 0
	}
	return float64(v)
}
