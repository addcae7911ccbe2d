package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram layout: values below histSub are counted exactly; above, each
// power of two is split into histHalf buckets, so that a bucket is never
// wider than 1/histHalf of its values (under 1.6 % relative error), as in
// HdrHistogram with two significant digits.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits // 128
	histHalf    = histSub / 2      // 64
	// histBuckets covers every uint64: shifts 0 to 64-histSubBits.
	histBuckets = (64-histSubBits+1)*histHalf + histHalf
)

// Histogram counts durations with bounded relative error at a fixed
// memory cost (about 30 KiB), safe for concurrent use: Record is a few
// atomic operations, so every subscriber records into one shared
// histogram. Values are kept in microseconds.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Uint64
}

// histIndex returns the bucket of v.
func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits
	return shift*histHalf + int(v>>shift)
}

// histHighest returns the largest value that falls in bucket i.
func histHighest(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := i/histHalf - 1
	sub := uint64(i - shift*histHalf)
	return (sub+1)<<shift - 1
}

// Record counts one duration; negative durations (clock steps) count as
// zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0) / time.Microsecond)
	h.counts[histIndex(v)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest recorded value, exactly (to the microsecond).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the value below or at which a fraction q (0 to 1) of
// the recorded values fall: the highest value of the bucket holding the
// ceil(q·count)-th value, never above Max. It returns 0 when nothing was
// recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	total := h.total.Load()
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	rank = min(max(rank, 1), total)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(histHighest(i), h.max.Load())) * time.Microsecond
		}
	}
	// Records that landed during the scan: the largest value is the answer.
	return h.Max()
}

// Reset forgets every value. Values recorded concurrently may survive it.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.total.Store(0)
	h.max.Store(0)
}

// Latency summarises a histogram.
type Latency struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summary returns the histogram's count, median, 90th, 99th and 99.9th
// percentiles and maximum.
func (h *Histogram) Summary() Latency {
	return Latency{
		Count: h.Count(), P50: h.Quantile(0.5), P90: h.Quantile(0.9), P99: h.Quantile(0.99),
		P999: h.Quantile(0.999), Max: h.Max(),
	}
}

// HistSnapshot is a histogram's content in a form that crosses a process
// boundary: the non-empty buckets and the exact maximum, in microseconds.
// Merging snapshots bucket by bucket gives the quantiles of all the
// values together, which no combination of each part's quantiles can.
type HistSnapshot struct {
	// Buckets holds [bucket index, count] pairs, in index order.
	Buckets [][2]uint64 `json:"buckets"`
	MaxUs   uint64      `json:"max_us"`
}

// Snapshot returns the histogram's non-empty buckets.
func (h *Histogram) Snapshot() HistSnapshot {
	s := HistSnapshot{MaxUs: h.max.Load()}
	for i := range h.counts {
		if n := h.counts[i].Load(); n > 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), n})
		}
	}
	return s
}

// Merge adds a snapshot's values to the histogram; bucket indexes out of
// range (a snapshot of another layout) are ignored.
func (h *Histogram) Merge(s HistSnapshot) {
	for _, b := range s.Buckets {
		if b[0] >= histBuckets {
			continue
		}
		h.counts[b[0]].Add(b[1])
		h.total.Add(b[1])
	}
	for {
		m := h.max.Load()
		if s.MaxUs <= m || h.max.CompareAndSwap(m, s.MaxUs) {
			return
		}
	}
}
