package hoptrace

import (
	"math"
	"time"
)

// ExportBounds are the upper bounds (in seconds) of the buckets exported
// to Prometheus: dense enough (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade)
// for a quantile read from them to be within a quarter of the truth, from
// 5 µs, below anything a hop takes on one machine, to 1 s.
var ExportBounds = []float64{
	0.000005, 0.000006, 0.000008,
	0.00001, 0.000015, 0.00002, 0.000025, 0.00003, 0.00004, 0.00005, 0.00006, 0.00008,
	0.0001, 0.00015, 0.0002, 0.00025, 0.0003, 0.0004, 0.0005, 0.0006, 0.0008,
	0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.008,
	0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08,
	0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8,
	1,
}

// exportBuckets folds a snapshot's fine buckets into ExportBounds'
// cumulative counts, each fine bucket counted at its representative
// value: a bound falling inside a fine bucket is off by at most that
// bucket's width (6.25 %).
func exportBuckets(s *Snapshot) map[float64]uint64 {
	out := make(map[float64]uint64, len(ExportBounds))
	var cum uint64
	b := 0
	for i, c := range s.Counts {
		v := representative(i) / float64(time.Second)
		for b < len(ExportBounds) && ExportBounds[b] < v {
			out[ExportBounds[b]] = cum
			b++
		}
		cum += c
	}
	for ; b < len(ExportBounds); b++ {
		out[ExportBounds[b]] = cum
	}
	return out
}

// Cumulative is a histogram as Prometheus exports it: counts of the
// observations at or below each bound, in increasing order; the last
// bound may be +Inf.
type Cumulative struct {
	Bounds []float64
	Counts []uint64
}

// Count is the number of observations (the last cumulative count).
func (c Cumulative) Count() uint64 {
	if len(c.Counts) == 0 {
		return 0
	}
	return c.Counts[len(c.Counts)-1]
}

// Sub returns c minus an earlier scrape of the same histogram (same
// bounds), the observations made between the two; a bound missing from
// before counts as zero there.
func (c Cumulative) Sub(before Cumulative) Cumulative {
	prev := make(map[float64]uint64, len(before.Bounds))
	for i, b := range before.Bounds {
		prev[b] = before.Counts[i]
	}
	out := Cumulative{Bounds: c.Bounds, Counts: make([]uint64, len(c.Counts))}
	for i, b := range c.Bounds {
		if p := prev[b]; p <= c.Counts[i] {
			out.Counts[i] = c.Counts[i] - p
		}
	}
	return out
}

// Quantile estimates the duration at or below which a fraction q of the
// observations fall, interpolating linearly inside the bucket that holds
// it as Prometheus's histogram_quantile does. Observations above the
// last finite bound answer that bound. It returns 0 with no observations.
func (c Cumulative) Quantile(q float64) time.Duration {
	total := c.Count()
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	lower, below := 0.0, uint64(0)
	for i, b := range c.Bounds {
		if float64(c.Counts[i]) >= rank {
			if math.IsInf(b, 1) {
				return seconds(lower)
			}
			in := c.Counts[i] - below
			if in == 0 {
				return seconds(b)
			}
			return seconds(lower + (b-lower)*(rank-float64(below))/float64(in))
		}
		if !math.IsInf(b, 1) {
			lower = b
		}
		below = c.Counts[i]
	}
	return seconds(lower)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
