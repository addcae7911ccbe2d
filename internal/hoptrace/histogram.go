package hoptrace

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Layout of a Histogram. Values are counted in units of 2^unitShift ns
// (128 ns); below 2^subBits units they are exact, above it each power of
// two is split into 2^subBits buckets, so a bucket is never wider than
// 1/16 of its values (6.25 %). The last bucket holds everything from
// 2^maxExp ns (about 2.1 s) up.
const (
	unitShift = 7
	subBits   = 4
	subCount  = 1 << subBits
	// maxExp is the power of two (in ns) where the overflow bucket starts.
	maxExp = 31
	// numBuckets: the exact range, then one row per power of two up to
	// maxExp, then the overflow bucket.
	numBuckets = subCount + (maxExp-unitShift-subBits)*subCount + 1
)

// Histogram counts durations at a fixed memory cost (about 5 KiB); it is
// safe for concurrent use and Observe neither locks nor allocates.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	// sum is in nanoseconds; it wraps after 584 years of observations.
	sum atomic.Uint64
}

// bucketOf returns the bucket of a duration of ns nanoseconds (ns ≥ 0).
func bucketOf(ns uint64) int {
	v := ns >> unitShift
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - 1 // v's top bit; e ≥ subBits
	i := (e-subBits+1)*subCount + int(v>>(e-subBits)&(subCount-1))
	return min(i, numBuckets-1)
}

// bucketBounds returns the lowest value of bucket i and the lowest of
// the next one, in nanoseconds; the overflow bucket's upper bound is
// +Inf.
func bucketBounds(i int) (lo, hi float64) {
	if i == numBuckets-1 {
		return math.Ldexp(1, maxExp), math.Inf(1)
	}
	if i < subCount {
		return float64(uint64(i) << unitShift), float64(uint64(i+1) << unitShift)
	}
	row, sub := i/subCount, i%subCount
	e := row + subBits - 1
	width := uint64(1) << (e - subBits)
	v := uint64(1)<<e + uint64(sub)*width
	return float64(v << unitShift), float64((v + width) << unitShift)
}

// Observe counts one duration of ns nanoseconds; a negative one (a clock
// step between two processes' stamps) counts as zero.
func (h *Histogram) Observe(ns int64) {
	u := uint64(max(ns, 0))
	h.counts[bucketOf(u)].Add(1)
	h.sum.Add(u)
}

// Snapshot is a copy of a Histogram's counts.
type Snapshot struct {
	Counts [numBuckets]uint64
	// Count is the sum of Counts; Sum is in nanoseconds.
	Count uint64
	Sum   uint64
}

// Snapshot copies the counts. Observations made during the copy may be
// in Counts and not yet in Sum, or the reverse.
func (h *Histogram) Snapshot() Snapshot {
	var s Snapshot
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	s.Sum = h.sum.Load()
	return s
}

// Quantile returns the duration at or below which a fraction q (0 to 1)
// of the observations fall, to the width of its bucket: the middle of the
// bucket holding the ceil(q·Count)-th observation (the overflow bucket
// answers its lower bound). It returns 0 for an empty snapshot.
func (s *Snapshot) Quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.Count)))
	rank = min(max(rank, 1), s.Count)
	var seen uint64
	for i, c := range s.Counts {
		seen += c
		if seen >= rank {
			return time.Duration(representative(i))
		}
	}
	return time.Duration(representative(numBuckets - 1))
}

// representative is the value a bucket stands for in quantiles and in
// the Prometheus buckets: its middle, or the overflow bucket's lower
// bound.
func representative(i int) float64 {
	lo, hi := bucketBounds(i)
	if math.IsInf(hi, 1) {
		return lo
	}
	return (lo + hi) / 2
}
