package billing_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
)

// TestEnforcerMetricsAppLabels: herald_quota_exceeded_total counts by
// quota, and by app too only with AppLabels.
func TestEnforcerMetricsAppLabels(t *testing.T) {
	cases := []struct {
		appLabels bool
		want      map[string]float64 // by label values in label-name order: "quota", or "app/quota"
	}{
		{false, map[string]float64{"max_connections": 3}},
		{true, map[string]float64{"app1/max_connections": 1, "app2/max_connections": 2}},
	}
	for _, tc := range cases {
		reg := prometheus.NewRegistry()
		e, err := billing.NewEnforcer(billing.EnforcerConfig{Now: (&clock{t: noon}).Now, Registerer: reg, AppLabels: tc.appLabels})
		if err != nil {
			t.Fatal(err)
		}
		q := channels.Quota{Enforcement: channels.EnforceSoft, MaxConnections: 1}
		e.CheckConnections(&channels.AppConfig{ID: "app1", AccountID: "acc1", Quota: q}, 1)
		for range 2 {
			e.CheckConnections(&channels.AppConfig{ID: "app2", AccountID: "acc1", Quota: q}, 1)
		}
		got := map[string]float64{}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() != "herald_quota_exceeded_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				if m.GetCounter().GetValue() == 0 {
					continue
				}
				key := ""
				for _, l := range m.GetLabel() {
					if key != "" {
						key += "/"
					}
					key += l.GetValue()
				}
				got[key] = m.GetCounter().GetValue()
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("app labels %v: series %v, want %v", tc.appLabels, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("app labels %v: %s = %v, want %v (all: %v)", tc.appLabels, k, got[k], v, got)
			}
		}
	}
}
