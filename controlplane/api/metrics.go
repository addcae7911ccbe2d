package api

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// publishBuckets span a stream write on one machine (about a millisecond)
// to a JetStream leader election (seconds).
var publishBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// metrics are the API's series.
type metrics struct {
	publishDuration prometheus.Histogram
	publishErrors   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "herald", "api"
	m := &metrics{
		publishDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "publish_duration_seconds",
			Help: "Time to store a REST publish (events or batch_events) in the message stream, once accepted by the quotas.", Buckets: publishBuckets}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "publish_errors_total",
			Help: "REST publishes the message stream did not store (NATS unavailable, timeout); the client got an error."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.publishDuration, m.publishErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api metrics: %w", err)
		}
	}
	return m, nil
}

// published records one PublishBatch call that started at start.
func (m *metrics) published(start time.Time, err error) {
	m.publishDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		m.publishErrors.Inc()
	}
}
