package fleet

import (
	"fmt"
	"slices"
	"time"
)

// Durations is a set of measured durations (reconnections, say).
type Durations []time.Duration

// Quantile is the q-quantile (0 < q ≤ 1) by the nearest rank, 0 when
// empty.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Max is the largest duration, 0 when empty.
func (d Durations) Max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

// Histogram counts the durations in buckets bounded by bounds
// (increasing); the last count is those above the last bound.
func (d Durations) Histogram(bounds []time.Duration) []int {
	out := make([]int, len(bounds)+1)
	for _, v := range d {
		i, _ := slices.BinarySearch(bounds, v)
		out[i]++
	}
	return out
}

// Summary prints the count, p50, p99 and max, rounded to milliseconds.
func (d Durations) Summary() string {
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s", len(d),
		d.Quantile(0.5).Round(time.Millisecond), d.Quantile(0.99).Round(time.Millisecond), d.Max().Round(time.Millisecond))
}

// HistogramString prints Histogram with bounds as "≤b: n" pairs.
func (d Durations) HistogramString(bounds []time.Duration) string {
	counts := d.Histogram(bounds)
	s := ""
	for i, b := range bounds {
		s += fmt.Sprintf("≤%s:%d ", b, counts[i])
	}
	return s + fmt.Sprintf(">%s:%d", bounds[len(bounds)-1], counts[len(bounds)])
}
