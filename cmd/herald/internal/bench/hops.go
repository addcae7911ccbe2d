package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/hoptrace"
)

// scrapeTimeout bounds one read of the server's /metrics.
const scrapeTimeout = 5 * time.Second

// HopLatency is one hop's timing over a step, from the server's
// herald_hop_duration_seconds (a server run with --trace-hops).
type HopLatency struct {
	Hop   string        `json:"hop"`
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
}

// scrapeHops reads the server's hop histograms; nil when it has none
// (no --trace-hops) or /metrics does not answer, which is no error: the
// hop table is a bonus.
func (b *Bench) scrapeHops(ctx context.Context) map[string]hoptrace.Cumulative {
	var hops map[string]hoptrace.Cumulative
	err := b.readMetrics(ctx, func(r io.Reader) (err error) {
		hops, err = hoptrace.ParseMetrics(r)
		return err
	})
	if err != nil {
		b.cfg.Logger.Debug("bench: read hop metrics", "err", err)
		return nil
	}
	return hops
}

// readMetrics hands the server's /metrics page to parse.
func (b *Bench) readMetrics(ctx context.Context, parse func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cfg.URL+"/metrics", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("read /metrics: %s", res.Status)
	}
	return parse(res.Body)
}

// hopsSince returns each hop's quantiles over what the server observed
// since before was scraped, in the hops' order; nil without hop metrics.
func (b *Bench) hopsSince(ctx context.Context, before map[string]hoptrace.Cumulative) []HopLatency {
	if before == nil {
		return nil
	}
	after := b.scrapeHops(ctx)
	var out []HopLatency
	for _, h := range hoptrace.Hops() {
		a, ok := after[h.String()]
		if !ok {
			continue
		}
		d := a.Sub(before[h.String()])
		out = append(out, HopLatency{
			Hop: h.String(), Count: d.Count(),
			P50: d.Quantile(0.5), P99: d.Quantile(0.99), P999: d.Quantile(0.999),
		})
	}
	return out
}

// printHops writes a step's hop table, indented under its row.
func (p *Printer) printHops(hops []HopLatency) error {
	if len(hops) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(p.w, "  server hops (herald_hop_duration_seconds over the step):\n  %-18s %10s %9s %9s %9s\n", "hop", "count", "p50", "p99", "p99.9"); err != nil {
		return err
	}
	for _, h := range hops {
		if _, err := fmt.Fprintf(p.w, "  %-18s %10d %9s %9s %9s\n", h.Hop, h.Count, fine(h.P50), fine(h.P99), fine(h.P999)); err != nil {
			return err
		}
	}
	return nil
}

// fine formats a duration in microseconds below a millisecond, else as
// ms does.
func fine(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	}
	return ms(d)
}
