package hoptrace

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestExportBoundsIncrease(t *testing.T) {
	for i := 1; i < len(ExportBounds); i++ {
		if ExportBounds[i] <= ExportBounds[i-1] {
			t.Fatalf("bound %d (%v) does not exceed %v", i, ExportBounds[i], ExportBounds[i-1])
		}
	}
	for _, want := range []float64{25e-6, 50e-6, 100e-6, 200e-6, 300e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 50e-3} {
		found := false
		for _, b := range ExportBounds {
			found = found || b == want
		}
		if !found {
			t.Errorf("no bucket at %v s", want)
		}
	}
}

// TestCollect: every hop is exported, counted in the right buckets.
func TestCollect(t *testing.T) {
	r := New()
	r.Observe(API, int64(22*time.Microsecond))
	r.Observe(API, int64(450*time.Microsecond))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	if n := testutil.CollectAndCount(r); n != int(numHops) {
		t.Fatalf("%d series, want one per hop (%d)", n, numHops)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mfs[0].GetMetric() {
		if m.GetLabel()[0].GetValue() != "api" {
			continue
		}
		h := m.GetHistogram()
		if h.GetSampleCount() != 2 {
			t.Fatalf("api count %d, want 2", h.GetSampleCount())
		}
		for _, b := range h.GetBucket() {
			want := uint64(0)
			switch {
			case b.GetUpperBound() >= 500e-6:
				want = 2
			case b.GetUpperBound() >= 25e-6:
				want = 1
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
		return
	}
	t.Fatal("no api series")
}

func TestCumulativeQuantile(t *testing.T) {
	before := Cumulative{Bounds: []float64{0.0001, 0.001, 0.01, math.Inf(1)}, Counts: []uint64{10, 10, 10, 10}}
	after := Cumulative{Bounds: before.Bounds, Counts: []uint64{10, 110, 120, 121}}
	d := after.Sub(before)
	if d.Count() != 111 {
		t.Fatalf("count %d, want 111", d.Count())
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 599500 * time.Nanosecond}, // 0.1 ms + 0.9 ms × 55.5/100
		{0.99, 9901 * time.Microsecond}, // 1 ms + 9 ms × 9.89/10
		{1, 10 * time.Millisecond},      // the +Inf bucket answers the last bound
	}
	for _, c := range cases {
		got := d.Quantile(c.q)
		if math.Abs(float64(got-c.want)) > float64(c.want)/100 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if (Cumulative{}).Quantile(0.5) != 0 {
		t.Error("an empty histogram has a quantile")
	}
}

func TestHopNames(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range Hops() {
		n := h.String()
		if n == "" || seen[n] || strings.ContainsAny(n, " \"") {
			t.Errorf("hop %d has a bad or repeated name %q", h, n)
		}
		seen[n] = true
	}
}

// TestParseMetricsRoundTrip: what a Recorder exports, ParseMetrics reads
// back with the same counts and quantiles.
func TestParseMetricsRoundTrip(t *testing.T) {
	r := New()
	for i := range 100 {
		r.Observe(Store, int64(time.Duration(100+i)*time.Microsecond))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	page := "# a comment\nother_metric_bucket{le=\"1\"} 3\n" + rec.Body.String()
	got, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(Hops()) {
		t.Fatalf("parsed hops %v, want %d", got, len(Hops()))
	}
	store := got["store"]
	if store.Count() != 100 || got["api"].Count() != 0 {
		t.Fatalf("store count %d, api count %d; want 100 and 0", store.Count(), got["api"].Count())
	}
	if !math.IsInf(store.Bounds[len(store.Bounds)-1], 1) {
		t.Fatalf("last bound %v, want +Inf", store.Bounds[len(store.Bounds)-1])
	}
	if p50 := store.Quantile(0.5); p50 < 130*time.Microsecond || p50 > 170*time.Microsecond {
		t.Errorf("p50 %v, want about 150µs", p50)
	}
	if _, err := ParseMetrics(strings.NewReader(MetricName + `_bucket{hop="api",le="x"} 1`)); err == nil {
		t.Error("a malformed bound was accepted")
	}
}
