package hoptrace

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricName is the histogram family a Recorder exports.
const MetricName = "herald_hop_duration_seconds"

// Recorder holds one Histogram per hop. A nil *Recorder is "off": every
// place that records checks for nil before it takes a time stamp.
type Recorder struct {
	hists [numHops]Histogram
	desc  *prometheus.Desc
}

// New returns a Recorder with empty histograms.
func New() *Recorder {
	return &Recorder{desc: prometheus.NewDesc(MetricName,
		"Time a message spends on each hop from the REST publish to the end of its fan-out (--trace-hops; docs/performance.md, \"Per-hop timing\").",
		[]string{"hop"}, nil)}
}

// Observe counts a duration of ns nanoseconds on hop h.
func (r *Recorder) Observe(h Hop, ns int64) { r.hists[h].Observe(ns) }

// Since counts on hop h the time from start (Unix nanoseconds) to now.
func (r *Recorder) Since(h Hop, start, now int64) { r.hists[h].Observe(now - start) }

// Snapshot copies hop h's histogram.
func (r *Recorder) Snapshot(h Hop) Snapshot { return r.hists[h].Snapshot() }

// Quantiles returns hop h's 50th, 99th and 99.9th percentiles.
func (r *Recorder) Quantiles(h Hop) (p50, p99, p999 time.Duration) {
	s := r.Snapshot(h)
	return s.Quantile(0.5), s.Quantile(0.99), s.Quantile(0.999)
}

// Describe implements prometheus.Collector.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

// Collect implements prometheus.Collector: one histogram per hop, every
// hop even before its first observation.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	for h := range numHops {
		s := r.Snapshot(h)
		ch <- prometheus.MustNewConstHistogram(r.desc, s.Count, float64(s.Sum)/float64(time.Second),
			exportBuckets(&s), Names[h])
	}
}
