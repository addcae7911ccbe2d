package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Printer writes step results as an aligned table, or as JSON lines (one
// object per step, then one with the best step).
type Printer struct {
	w       io.Writer
	json    bool
	started bool
}

// NewPrinter returns a Printer writing to w; jsonLines selects JSON.
func NewPrinter(w io.Writer, jsonLines bool) *Printer { return &Printer{w: w, json: jsonLines} }

// stepColumns heads the text table.
const stepColumns = "step\trate/s\tpub/s\tdeliv/s\texpected\tlost\tdup\tsubs\tp50\tp99\tp99.9\tmax\tpub-p99\terrors\t"

// Step writes one step.
func (p *Printer) Step(s Step) error {
	if p.json {
		return json.NewEncoder(p.w).Encode(s)
	}
	tw := tabwriter.NewWriter(p.w, 9, 0, 1, ' ', tabwriter.AlignRight)
	if !p.started {
		p.started = true
		fmt.Fprintln(tw, stepColumns)
	}
	fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
		s.Step, s.Rate, s.PublishRate, s.DeliveryRate, s.Expected, s.Lost, s.Duplicates, s.Subscribers,
		ms(s.Latency.P50), ms(s.Latency.P99), ms(s.Latency.P999), ms(s.Latency.Max), ms(s.PublishLatency.P99), s.PublishErrors)
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := p.printHops(s.Hops); err != nil {
		return err
	}
	if s.PublishError != "" {
		_, err := fmt.Fprintf(p.w, "  first publish error: %s\n", s.PublishError)
		return err
	}
	return nil
}

// Best writes the clean step with the most deliveries per second.
func (p *Printer) Best(steps []Step, maxP99 time.Duration) error {
	best, ok := Best(steps, maxP99)
	if p.json {
		v := struct {
			Best   *Step         `json:"best"`
			MaxP99 time.Duration `json:"max_p99_ns"`
		}{MaxP99: maxP99}
		if ok {
			v.Best = &best
		}
		return json.NewEncoder(p.w).Encode(v)
	}
	if !ok {
		_, err := fmt.Fprintf(p.w, "best: no step delivered everything exactly once with p99 < %s\n", maxP99)
		return err
	}
	_, err := fmt.Fprintf(p.w, "best: %.0f deliveries/s (step %d, %.0f publishes/s) with no loss and p99 %s < %s\n",
		best.DeliveryRate, best.Step, best.PublishRate, ms(best.Latency.P99), maxP99)
	return err
}

// ms formats a duration in milliseconds with three significant digits at
// most.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.0fms", v)
	}
}
