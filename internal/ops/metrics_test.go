package ops_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/ops"
)

// gauges gathers the readiness gauges: herald_ready under "", each check
// under its name.
func gauges(t *testing.T, o *ops.Ops) map[string]float64 {
	t.Helper()
	families, err := o.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "herald_ready":
				out[""] = m.GetGauge().GetValue()
			case "herald_readiness_check":
				out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestReadinessMetrics(t *testing.T) {
	o := ops.New(ops.Config{})
	var down atomic.Bool
	o.AddCheck("postgres", func(context.Context) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	o.AddCheck("nats", func(context.Context) error { return nil })
	cases := []struct {
		down bool
		want map[string]float64
	}{
		{false, map[string]float64{"": 1, "nats": 1, "postgres": 1}},
		{true, map[string]float64{"": 0, "nats": 1, "postgres": 0}},
		{false, map[string]float64{"": 1, "nats": 1, "postgres": 1}},
	}
	for _, tc := range cases {
		down.Store(tc.down)
		got := gauges(t, o)
		if len(got) != len(tc.want) {
			t.Errorf("postgres down %v: %v, want %v", tc.down, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("postgres down %v: %q = %v, want %v", tc.down, k, got[k], v)
			}
		}
	}
}

func TestMetricNames(t *testing.T) {
	o := ops.New(ops.Config{})
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_test_events_total", Help: "h"}, []string{"kind"})
	o.Registry().MustRegister(vec)
	names := o.MetricNames()
	// A labelled family with no series yet is registered all the same.
	for _, want := range []string{"herald_test_events_total", "herald_ready", "herald_readiness_check", "go_goroutines", "process_cpu_seconds_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("MetricNames() lacks %s: %v", want, names)
		}
	}
}
