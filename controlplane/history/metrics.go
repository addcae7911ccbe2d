package history

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace, subsystem = "herald", "history"

// Reasons a message is acknowledged without being written.
const (
	skipRetention = "retention"
	skipMalformed = "malformed"
)

// Operations whose failures are counted.
const (
	opFetch    = "fetch"
	opWrite    = "write"
	opConsumer = "consumer"
)

// delayBuckets spread from a few milliseconds (caught up) to the hours of
// a long database outage.
var delayBuckets = prometheus.ExponentialBuckets(0.005, 3, 14)

// writerMetrics are one Writer's series, labelled with its stream so that
// the writers of several shards can share a registry.
type writerMetrics struct {
	written    prometheus.Counter
	duplicates prometheus.Counter
	skipped    *prometheus.CounterVec
	batches    prometheus.Counter
	errors     *prometheus.CounterVec
	delay      prometheus.Histogram
	pending    prometheus.Gauge
	lag        prometheus.GaugeFunc

	// oldest is the stored time (Unix ns) of the oldest message not yet
	// written, 0 when there is none; lag reads it.
	oldest atomic.Int64
}

func newWriterMetrics(reg prometheus.Registerer, streamName string, now func() time.Time) (*writerMetrics, error) {
	labels := prometheus.Labels{"stream": streamName}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help, ConstLabels: labels}
	}
	m := &writerMetrics{
		written:    prometheus.NewCounter(prometheus.CounterOpts(opts("messages_written_total", "Messages stored in PostgreSQL."))),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts(opts("messages_duplicate_total", "Redelivered messages that were already stored."))),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts(opts("messages_skipped_total",
			"Messages acknowledged without being stored: the app keeps no history, or the message is malformed.")), []string{"reason"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts(opts("batches_total", "Batches committed."))),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts(opts("errors_total",
			"Failed fetches, writes (each retry counts) and consumer set-ups.")), []string{"op"}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: subsystem,
			Name: "delay_seconds", Help: "Time from a message's storage in the stream to its commit in PostgreSQL.",
			ConstLabels: labels, Buckets: delayBuckets}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts(opts("pending_messages",
			"Messages stored in the stream and not yet written by this writer, as of its last fetch."))),
	}
	m.lag = prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("lag_seconds",
		"Age of the oldest message not yet written; 0 when caught up.")), func() float64 {
		oldest := m.oldest.Load()
		if oldest == 0 {
			return 0
		}
		return max(now().Sub(time.Unix(0, oldest)).Seconds(), 0)
	})
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.written, m.duplicates, m.skipped, m.batches, m.errors, m.delay, m.pending, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register history writer metrics: %w", err)
		}
	}
	return m, nil
}

// retentionMetrics are the retention loop's series.
type retentionMetrics struct {
	purged prometheus.Counter
	passes prometheus.Counter
	errors prometheus.Counter
}

func newRetentionMetrics(reg prometheus.Registerer) (*retentionMetrics, error) {
	m := &retentionMetrics{
		purged: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem,
			Name: "purged_total", Help: "Messages deleted because their app's retention expired."}),
		passes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem,
			Name: "purge_passes_total", Help: "Retention passes run."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem,
			Name: "purge_errors_total", Help: "Retention passes that failed."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.purged, m.passes, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register history retention metrics: %w", err)
		}
	}
	return m, nil
}
