package webhooks_test

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/testinfra"
)

// attemptCounts gathers herald_webhook_attempts_total by status and the
// attempt duration histogram's count.
func attemptCounts(t *testing.T, reg *prometheus.Registry) (map[string]float64, uint64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string]float64{}
	var observed uint64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "herald_webhook_attempts_total":
				byStatus[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case "herald_webhook_attempt_duration_seconds":
				observed = m.GetHistogram().GetSampleCount()
			}
		}
	}
	return byStatus, observed
}

// TestAttemptMetrics: each recorded attempt counts under the delivery's
// status after it, and every status has a series from the start.
func TestAttemptMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.fastConfig()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	flaky := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return false
		}
		return true
	})
	e.endpoint(t, flaky.URL, false)
	e.start(t, cfg)
	if got, _ := attemptCounts(t, reg); len(got) != 3 || got["delivered"] != 0 {
		t.Fatalf("before any attempt: %v, want delivered, pending and failed at 0", got)
	}
	e.publish(t, occupied("a"))
	flaky.WaitEvents(1)
	testinfra.WaitUntil(t, "the delivered attempt counted", func() bool {
		got, _ := attemptCounts(t, reg)
		return got["delivered"] == 1
	})
	got, observed := attemptCounts(t, reg)
	want := map[string]float64{"delivered": 1, "pending": 2, "failed": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attempts %q = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if observed != 3 {
		t.Errorf("attempt durations observed %d times, want 3", observed)
	}
}
