package webhooks

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/controlplane"
)

// metrics are the dispatcher's series. Every status's child exists from
// the start, so that a rate over them is 0 rather than absent.
type metrics struct {
	attempts map[controlplane.WebhookDeliveryStatus]prometheus.Counter
	disabled prometheus.Counter
	duration prometheus.Histogram
}

// attemptBuckets span a fast receiver to the default request timeout.
var attemptBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "herald", "webhook"
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "attempts_total",
		Help: "Webhook requests recorded, by the delivery's status after them: delivered, pending (failed, retried later) or failed (failed, retry window over)."},
		[]string{"status"})
	m := &metrics{
		attempts: map[controlplane.WebhookDeliveryStatus]prometheus.Counter{},
		disabled: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "endpoints_disabled_total",
			Help: "Webhook endpoints disabled automatically because they failed every delivery for --webhook-disable-after."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "attempt_duration_seconds",
			Help: "Duration of webhook requests, answered or not.", Buckets: attemptBuckets}),
	}
	for _, s := range []controlplane.WebhookDeliveryStatus{controlplane.WebhookDelivered, controlplane.WebhookPending, controlplane.WebhookFailed} {
		m.attempts[s] = vec.WithLabelValues(string(s))
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{vec, m.disabled, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// attempted counts one recorded attempt.
func (m *metrics) attempted(a controlplane.WebhookAttempt) {
	if c := m.attempts[a.Status]; c != nil {
		c.Inc()
	}
	m.duration.Observe(a.Duration.Seconds())
}
