package bench

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestHistIndexRoundTrip(t *testing.T) {
	// Every value falls in a bucket whose highest value is at least the
	// value and within 1/histHalf of it; buckets are contiguous.
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, 1<<63 + 1, 1<<64 - 1} {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("index(%d) = %d after %d (buckets %d)", v, i, prev, histBuckets)
		}
		prev = i
		hi := histHighest(i)
		if hi < v {
			t.Fatalf("highest(index(%d)) = %d, below the value", v, hi)
		}
		if v >= histSub && float64(hi-v) > float64(v)/histHalf {
			t.Fatalf("bucket of %d reaches %d: more than 1/%d wide", v, hi, histHalf)
		}
		if i > 0 && histHighest(i-1) >= v {
			t.Fatalf("value %d also fits bucket %d (up to %d)", v, i-1, histHighest(i-1))
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	cases := []struct {
		name   string
		values []time.Duration // in any order
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond},
		{"median of 1..100 ms", seq(100, time.Millisecond), 0.5, 50 * time.Millisecond},
		{"p99 of 1..100 ms", seq(100, time.Millisecond), 0.99, 99 * time.Millisecond},
		{"max is exact", seq(100, time.Millisecond), 1, 100 * time.Millisecond},
		{"exact below 128µs", seq(100, time.Microsecond), 0.5, 50 * time.Microsecond},
		{"negative counts as 0", []time.Duration{-time.Second}, 0.5, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Histogram
			for _, v := range c.values {
				h.Record(v)
			}
			got := h.Quantile(c.q)
			// The answer is the bucket's highest value: within 1/64 above.
			if got < c.want || got > c.want+c.want/histHalf+time.Microsecond {
				t.Fatalf("Quantile(%v) = %v, want %v (+1/%d)", c.q, got, c.want, histHalf)
			}
		})
	}
}

func seq(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	rand.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestHistogramAgainstSort compares with the exact quantiles of sorted
// samples.
func TestHistogramAgainstSort(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(1, 2))
	samples := make([]time.Duration, 100_000)
	for i := range samples {
		// Log-normal-ish: most around a millisecond, a long tail.
		samples[i] = time.Duration(r.ExpFloat64() * r.ExpFloat64() * float64(time.Millisecond)).Truncate(time.Microsecond)
		h.Record(samples[i])
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := samples[int(q*float64(len(samples)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/histHalf+float64(time.Microsecond) {
			t.Errorf("Quantile(%v) = %v, exact %v", q, got, exact)
		}
	}
	if h.Max() != samples[len(samples)-1] {
		t.Errorf("Max = %v, want %v", h.Max(), samples[len(samples)-1])
	}
	if h.Count() != uint64(len(samples)) {
		t.Errorf("Count = %d", h.Count())
	}
}

func TestHistogramConcurrentAndReset(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.Count() != 8000 || h.Max() != 7999*time.Microsecond {
		t.Fatalf("count %d max %v", h.Count(), h.Max())
	}
	h.Reset()
	if s := h.Summary(); s != (Latency{}) {
		t.Fatalf("after Reset: %+v", s)
	}
}
