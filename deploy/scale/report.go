package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// mib is a byte count in MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }

// print writes the run's summary.
func (r result) print(w io.Writer, o options) {
	c, s := r.connected, r.step
	verdict := "MET"
	if s.Lost != 0 || s.Duplicates != 0 || s.Latency.P99 >= o.maxP99 || c.Failed != 0 {
		verdict = "MISSED"
	}
	fmt.Fprintf(w, "\n%d connections over %d gateways (1 NATS, 1 control plane), %d bench workers; %g broadcast/s for %s to one channel\n\n",
		o.conns, o.gateways, o.workers, o.rate, o.duration)
	fmt.Fprintf(w, "connections   %d opened, %d failed, in %s: %.0f/s\n", c.Open, c.Failed, c.Elapsed.Round(time.Millisecond), c.Rate)
	if c.FirstError != "" {
		fmt.Fprintf(w, "              first failure: %s\n", c.FirstError)
	}
	fmt.Fprintf(w, "publishes     %d (%.2f/s), %d refused\n", s.Published, s.PublishRate, s.PublishErrors)
	if s.PublishError != "" {
		fmt.Fprintf(w, "              first refusal: %s\n", s.PublishError)
	}
	fmt.Fprintf(w, "deliveries    expected %d, received %d, lost %d, duplicates %d, unexpected %d; %d still connected; %.0f/s\n",
		s.Expected, s.Delivered, s.Lost, s.Duplicates, s.Unexpected, s.Subscribers, s.DeliveryRate)
	if s.Lost > 0 {
		fmt.Fprintf(w, "              lost: not received within -drain (%s) of the last publish: late or lost\n", o.drain)
	}
	fmt.Fprintf(w, "latency       p50 %s  p90 %s  p99 %s  max %s  (publish request p99 %s)\n",
		s.Latency.P50.Round(time.Millisecond/10), s.Latency.P90.Round(time.Millisecond/10), s.Latency.P99.Round(time.Millisecond/10),
		s.Latency.Max.Round(time.Millisecond/10), s.PublishLatency.P99.Round(time.Millisecond/10))
	fmt.Fprintf(w, "target        p99 < %s, no loss: %s\n\n", o.maxP99, verdict)

	tw := tabwriter.NewWriter(w, 8, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "process\tRSS MiB\tpeak MiB\tCPU %% of a core\t\n")
	totals := map[string]*usage{}
	var order []string
	for _, u := range r.usage {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t\n", u.name, mib(u.rss), mib(u.peak), pct(u.cpu, r.window))
		t, ok := totals[u.group]
		if !ok {
			t = &usage{}
			totals[u.group] = t
			order = append(order, u.group)
		}
		t.rss += u.rss
		t.peak += u.peak
		t.cpu += u.cpu
	}
	names := map[string]string{
		groupHerald:   "total Herald (gateways, control plane, NATS)",
		groupPostgres: "total PostgreSQL",
		groupBench:    "total load generator",
	}
	for _, g := range order {
		t := totals[g]
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t\n", names[g], mib(t.rss), mib(t.peak), pct(t.cpu, r.window))
	}
	_ = tw.Flush()
	if r.host.total > 0 {
		var listed time.Duration
		for _, u := range r.usage {
			listed += u.cpu
		}
		cores := float64(r.host.total) / float64(r.window)
		fmt.Fprintf(w, "\nmachine: %.0f %% busy over %.0f cores; in %% of a core: %.1f softirq (loopback TCP, charged to no process above), %.1f other processes\n",
			100*float64(r.host.busy)/float64(r.host.total), cores, pct(r.host.softirq, r.window), pct(r.host.busy-r.host.softirq-listed, r.window))
	}
	if h := totals[groupHerald]; h != nil && c.Open > 0 {
		fmt.Fprintf(w, "\nHerald's RSS: %.1f MiB before connecting, %.1f MiB with %d connections: %.2f KiB per connection (%.2f KiB counting everything); CPU over a %s window\n",
			mib(r.heraldBefore), mib(h.rss), c.Open, float64(h.rss-r.heraldBefore)/1024/float64(c.Open), float64(h.rss)/1024/float64(c.Open), r.window.Round(time.Second))
	}
}

// pct is cpu as a percentage of one core over window.
func pct(cpu, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return 100 * cpu.Seconds() / window.Seconds()
}
