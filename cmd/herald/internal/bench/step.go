package bench

import (
	"context"
	"fmt"
	"time"
)

// minAchievedRate is the share of the target publish rate a step must
// reach to count in Best: below it the publisher, not the server, was the
// limit.
const minAchievedRate = 0.95

// Step is the result of publishing at one rate.
type Step struct {
	Step int `json:"step"`
	// Start is when publishing began, to line a step up with server
	// metrics.
	Start time.Time `json:"start"`
	// Rate is the target, in publishes per second.
	Rate float64 `json:"rate"`
	// Duration is how long publishing was meant to last.
	Duration time.Duration `json:"duration_ns"`
	// Published counts the publishes the API accepted; PublishRate is
	// that over the time publishing took.
	Published     int64   `json:"published"`
	PublishRate   float64 `json:"publish_rate"`
	PublishErrors int64   `json:"publish_errors"`
	PublishError  string  `json:"publish_error,omitempty"`
	Accounting
	// DeliveryRate is the distinct deliveries per second, from the first
	// publish to the last delivery.
	DeliveryRate float64 `json:"delivery_rate"`
	// Stray counts events of earlier steps that arrived during this one.
	Stray int64 `json:"stray"`
	// Subscribers counts the subscribers still connected at the end.
	Subscribers int `json:"subscribers"`
	// Latency is from sending a publish request to receiving the event;
	// PublishLatency is the publish request's round trip.
	Latency        Latency `json:"latency"`
	PublishLatency Latency `json:"publish_latency"`
	// Hops is the server's per-hop timing over the step, when it runs
	// with --trace-hops.
	Hops []HopLatency `json:"hops,omitempty"`
}

// Clean reports whether the step met the target: every event delivered
// exactly once, no publish refused, the target rate reached, and a 99th
// percentile latency under maxP99.
func (s Step) Clean(maxP99 time.Duration) bool {
	return s.Lost == 0 && s.Duplicates == 0 && s.PublishErrors == 0 && s.Published > 0 &&
		s.PublishRate >= minAchievedRate*s.Rate && s.Latency.P99 < maxP99
}

// Step publishes at rate events per second for the configured Duration,
// waits up to Drain for the deliveries owed, and accounts for them.
func (b *Bench) Step(ctx context.Context, rate float64) (Step, error) {
	if b.perChannel == nil {
		return Step{}, fmt.Errorf("bench: step before Connect")
	}
	if rate <= 0 {
		return Step{}, fmt.Errorf("%w: rate %v", ErrConfig, rate)
	}
	b.step++
	if err := b.aud.begin(ctx, b.step); err != nil {
		return Step{}, err
	}

	hopsBefore := b.scrapeHops(ctx)
	start := time.Now()
	pacer := NewPacer(rate, b.cfg.Duration)
	pub := b.publish(ctx, b.step, pacer)
	if err := ctx.Err(); err != nil {
		return Step{}, err
	}
	published := make([]int64, len(pub.published))
	var owed int64
	for i := range pub.published {
		published[i] = pub.published[i].Load()
		owed += published[i] * b.perChannel[i]
	}
	if err := b.waitDelivered(ctx, owed); err != nil {
		return Step{}, err
	}
	rec, err := b.aud.collect(ctx)
	if err != nil {
		return Step{}, err
	}
	var hist Histogram
	hist.Merge(rec.Latency)
	res := Step{
		Step:           int(b.step),
		Start:          start,
		Rate:           rate,
		Duration:       b.cfg.Duration,
		PublishErrors:  pub.errors.Load(),
		Accounting:     Account(published, rec.Received),
		Stray:          rec.Stray,
		Subscribers:    rec.Open,
		Latency:        hist.Summary(),
		PublishLatency: pub.latency.Summary(),
		Hops:           b.hopsSince(ctx, hopsBefore),
	}
	for _, n := range published {
		res.Published += n
	}
	if pub.firstErr != nil {
		res.PublishError = pub.firstErr.Error()
	}
	if pub.elapsed > 0 {
		res.PublishRate = float64(res.Published) / pub.elapsed.Seconds()
	}
	if last := rec.LastNs; last > start.UnixNano() {
		res.DeliveryRate = float64(res.Delivered) / time.Duration(last-start.UnixNano()).Seconds()
	}
	return res, nil
}

// waitDelivered waits until owed distinct deliveries arrived, or Drain
// passed.
func (b *Bench) waitDelivered(ctx context.Context, owed int64) error {
	deadline := time.NewTimer(b.cfg.Drain)
	defer deadline.Stop()
	tick := time.NewTicker(drainPollFor(b.aud))
	defer tick.Stop()
	for {
		n, err := b.aud.delivered(ctx)
		if err != nil {
			return err
		}
		if n >= owed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-tick.C:
		}
	}
}

// Sweep runs a step at each rate in order and calls each with every
// result. Unless keepGoing, it stops after the first step that is not
// Clean: higher rates would only overload the server further.
func (b *Bench) Sweep(ctx context.Context, rates []float64, keepGoing bool, each func(Step)) ([]Step, error) {
	var steps []Step
	for _, r := range rates {
		s, err := b.Step(ctx, r)
		if err != nil {
			return steps, err
		}
		steps = append(steps, s)
		if each != nil {
			each(s)
		}
		if !keepGoing && !s.Clean(b.cfg.MaxP99) {
			break
		}
	}
	return steps, nil
}

// Best returns the clean step (see Step.Clean) with the most deliveries
// per second.
func Best(steps []Step, maxP99 time.Duration) (Step, bool) {
	var best Step
	found := false
	for _, s := range steps {
		if s.Clean(maxP99) && (!found || s.DeliveryRate > best.DeliveryRate) {
			best, found = s, true
		}
	}
	return best, found
}
