package ops

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// readinessCollector exports the readiness checks at scrape time, so that
// an alert sees what /readyz sees (a lost PostgreSQL, a disconnected NATS)
// without probing /readyz itself.
type readinessCollector struct {
	o     *Ops
	ready *prometheus.Desc
	check *prometheus.Desc
}

func newReadinessCollector(o *Ops) *readinessCollector {
	return &readinessCollector{
		o: o,
		ready: prometheus.NewDesc("herald_ready",
			"1 while every readiness check passes (/readyz answers 200), else 0.", nil, nil),
		check: prometheus.NewDesc("herald_readiness_check",
			"1 while the named readiness check (nats, postgres, …) passes, else 0.", []string{"check"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *readinessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ready
	ch <- c.check
}

// Collect implements prometheus.Collector. Each check is bounded by the
// Ops check timeout, as for /readyz.
func (c *readinessCollector) Collect(ch chan<- prometheus.Metric) {
	failed := c.o.Readiness(context.Background())
	ready := 1.0
	if len(failed) > 0 {
		ready = 0
	}
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, ready)
	for _, name := range c.o.checkNames() {
		v := 1.0
		if failed[name] != nil {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(c.check, prometheus.GaugeValue, v, name)
	}
}

// MetricNames lists the metric families registered, as their descriptors
// name them (labelled families with no series yet included): the metrics
// catalog test compares them with docs/operations.md.
func (o *Ops) MetricNames() []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		o.registry.Describe(ch)
		close(ch)
	}()
	seen := map[string]bool{}
	var names []string
	for d := range ch {
		n := descName(d)
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

// descName is a descriptor's fully-qualified name; client_golang exposes
// it only through String.
func descName(d *prometheus.Desc) string {
	const prefix = `fqName: "`
	s := d.String()
	i := strings.Index(s, prefix)
	if i < 0 {
		return ""
	}
	s = s[i+len(prefix):]
	j := strings.IndexByte(s, '"')
	if j < 0 {
		return ""
	}
	return s[:j]
}
