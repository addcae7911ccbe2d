package hoptrace

import (
	"math"
	"sync"
	"testing"
	"time"
)

// TestBucketsCoverEveryValue: every value falls in the bucket whose
// bounds hold it, buckets are contiguous, and none is wider than 1/16 of
// its lower bound above the exact range.
func TestBucketsCoverEveryValue(t *testing.T) {
	prevHi := 0.0
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		if lo != prevHi {
			t.Fatalf("bucket %d starts at %v, the previous ended at %v", i, lo, prevHi)
		}
		prevHi = hi
		if i >= subCount && !math.IsInf(hi, 1) && (hi-lo)/lo > 1.0/subCount+1e-9 {
			t.Errorf("bucket %d [%v, %v) is wider than 1/%d of its values", i, lo, hi, subCount)
		}
	}
	for _, ns := range []uint64{0, 1, 127, 128, 2047, 2048, 5000, 25_000, 99_999, 1_000_000, 999_999_999, 1 << 31, 1 << 40, math.MaxUint64 >> 1} {
		i := bucketOf(ns)
		lo, hi := bucketBounds(i)
		if float64(ns) < lo || float64(ns) >= hi {
			t.Errorf("%d ns went to bucket %d [%v, %v)", ns, i, lo, hi)
		}
	}
}

func TestQuantiles(t *testing.T) {
	cases := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{100 * time.Microsecond}, 0.99, 100 * time.Microsecond},
		{"median of three", []time.Duration{10 * time.Microsecond, 300 * time.Microsecond, time.Second}, 0.5, 300 * time.Microsecond},
		{"p99 of a tail", append(repeat(50*time.Microsecond, 98), 2*time.Millisecond, 2*time.Millisecond), 0.99, 2 * time.Millisecond},
		{"p50 below the tail", append(repeat(50*time.Microsecond, 98), 2*time.Millisecond, 2*time.Millisecond), 0.5, 50 * time.Microsecond},
		{"negative counts as zero", []time.Duration{-time.Second}, 0.5, 64 * time.Nanosecond},
		{"overflow answers its floor", []time.Duration{time.Hour}, 0.5, time.Duration(1 << maxExp)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Histogram
			for _, v := range c.values {
				h.Observe(int64(v))
			}
			s := h.Snapshot()
			got := s.Quantile(c.q)
			if math.Abs(float64(got-c.want)) > float64(c.want)/subCount {
				t.Errorf("Quantile(%v) = %v, want %v within 1/%d", c.q, got, c.want, subCount)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestConcurrentObserve: observations from many goroutines are all
// counted (run with -race).
func TestConcurrentObserve(t *testing.T) {
	const goroutines, each = 8, 10_000
	r := New()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r.Observe(Fanout, int64(g*each+i)*int64(time.Microsecond)/each)
			}
		})
	}
	// Scrapes while recording must not race either.
	wg.Go(func() {
		for range 10 {
			_ = r.Snapshot(Fanout)
		}
	})
	wg.Wait()
	s := r.Snapshot(Fanout)
	if s.Count != goroutines*each {
		t.Fatalf("counted %d, want %d", s.Count, goroutines*each)
	}
	if r.Snapshot(API).Count != 0 {
		t.Fatal("another hop counted observations")
	}
}

func TestObserveDoesNotAllocate(t *testing.T) {
	r := New()
	if n := testing.AllocsPerRun(100, func() { r.Since(Store, 1, 50_000) }); n != 0 {
		t.Fatalf("Since allocates %v times", n)
	}
}

// BenchmarkRecord is the cost of one hop with tracing on: a time stamp
// and an observation.
func BenchmarkRecord(b *testing.B) {
	r := New()
	start := time.Now().UnixNano()
	b.ReportAllocs()
	for b.Loop() {
		r.Since(Fanout, start, time.Now().UnixNano())
	}
}

// BenchmarkRecordParallel is BenchmarkRecord from every P at once on
// one hop, the worst case: the cores contend for the same counters.
func BenchmarkRecordParallel(b *testing.B) {
	r := New()
	start := time.Now().UnixNano()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Since(Fanout, start, time.Now().UnixNano())
		}
	})
}

// BenchmarkRecordOff is what a hop costs with tracing off: the nil
// check the hot path makes before anything else.
func BenchmarkRecordOff(b *testing.B) {
	var r *Recorder
	start := int64(1)
	b.ReportAllocs()
	for b.Loop() {
		if r != nil {
			r.Since(Fanout, start, time.Now().UnixNano())
		}
	}
}
