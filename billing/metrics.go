package billing

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace, subsystem = "herald", "meter"

// flusherMetrics are a Flusher's series.
type flusherMetrics struct {
	flushes  prometheus.Counter
	failures prometheus.Counter
}

func newFlusherMetrics(reg prometheus.Registerer, m *Meter, queued func() int) (*flusherMetrics, error) {
	fm := &flusherMetrics{
		flushes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem,
			Name: "flushes_total", Help: "Meter flushes the stream acknowledged."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem,
			Name: "flush_failures_total", Help: "Attempts to publish a meter flush that failed (each retry counts)."}),
	}
	unflushed := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Subsystem: subsystem,
		Name: "unflushed_deliveries", Help: "Deliveries and presence events counted and not yet taken by a flush: " +
			"an estimate of what a SIGKILL of this process would lose."}, func() float64 { return float64(m.Unflushed()) })
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Subsystem: subsystem,
		Name: "flushes_pending", Help: "Flushes taken and not yet acknowledged by the stream."}, func() float64 { return float64(queued()) })
	if err := register(reg, fm.flushes, fm.failures, unflushed, pending); err != nil {
		return nil, err
	}
	return fm, nil
}

// foldMetrics are a folder's series (flushes or published messages).
type foldMetrics struct {
	folded  prometheus.Counter
	skipped prometheus.Counter
	batches prometheus.Counter
	errors  prometheus.Counter
}

func newFoldMetrics(reg prometheus.Registerer, what string, labels prometheus.Labels) (*foldMetrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem, Name: what + "_" + name, Help: help, ConstLabels: labels}
	}
	fm := &foldMetrics{
		folded:  prometheus.NewCounter(opts("folded_total", "Items folded into usage.")),
		skipped: prometheus.NewCounter(opts("skipped_total", "Items delivered again and already folded, or malformed.")),
		batches: prometheus.NewCounter(opts("batches_total", "Batches committed.")),
		errors:  prometheus.NewCounter(opts("errors_total", "Failed fetches, folds (each retry counts) and consumer set-ups.")),
	}
	if err := register(reg, fm.folded, fm.skipped, fm.batches, fm.errors); err != nil {
		return nil, err
	}
	return fm, nil
}

// register registers cs with reg (nil: none), failing on the first error.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return errors.Join(errors.New("meter metrics"), err)
		}
	}
	return nil
}
