package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/ratelimit"
)

// clock is a fake clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_700_000_000, 0)} }
func limiter(c *clock, rate float64, burst, maxKeys int) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Config{Rate: rate, Burst: burst, MaxKeys: maxKeys, Now: c.now})
}

func TestAllowBurstThenRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		rate      float64
		burst     int
		wantRetry time.Duration
	}{
		{"2 per second, burst 3", 2, 3, 500 * time.Millisecond},
		{"1 per second, burst 1", 1, 1, time.Second},
		{"0.5 per second, burst 5", 0.5, 5, 2 * time.Second},
		{"burst 0 means 1", 10, 0, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := limiter(c, tc.rate, tc.burst, 0)
			for i := range max(tc.burst, 1) {
				if ok, _ := l.Allow("k"); !ok {
					t.Fatalf("event %d of the burst refused", i+1)
				}
			}
			ok, retry := l.Allow("k")
			if ok || retry != tc.wantRetry {
				t.Fatalf("after the burst: ok=%v retry=%s, want refused with %s", ok, retry, tc.wantRetry)
			}
			if ok, _ := l.Allow("other"); !ok {
				t.Fatal("another key shares the bucket")
			}
			c.add(tc.wantRetry)
			if ok, _ := l.Allow("k"); !ok {
				t.Fatalf("refused after waiting the retry delay")
			}
			if ok, _ := l.Allow("k"); ok {
				t.Fatal("a second event allowed right after the refill of one token")
			}
		})
	}
}

func TestRefillCapsAtBurst(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := limiter(c, 10, 2, 0)
	l.Allow("k")
	c.add(time.Hour)
	for i := range 2 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("an idle hour gave more than the burst")
	}
}

func TestNilLimiterAllows(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0, -1} {
		l := ratelimit.New(ratelimit.Config{Rate: rate, Burst: 1})
		for range 100 {
			if ok, _ := l.Allow("k"); !ok {
				t.Fatalf("rate %v limits", rate)
			}
		}
		l.Sweep()
		if l.Len() != 0 {
			t.Fatal("a disabled limiter holds buckets")
		}
	}
}

func TestSweepDropsRefilledBuckets(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := limiter(c, 1, 2, 0)
	for i := range 100 {
		l.Allow(fmt.Sprint("idle-", i))
		l.Allow(fmt.Sprint("idle-", i))
	}
	c.add(l.FullAfter() / 2)
	l.Allow("busy")
	l.Allow("busy")
	if got := l.Len(); got != 101 {
		t.Fatalf("Len = %d, want 101", got)
	}
	l.Sweep()
	if got := l.Len(); got != 101 {
		t.Fatalf("swept buckets that had not refilled: Len = %d", got)
	}
	c.add(l.FullAfter() / 2)
	l.Sweep()
	if got := l.Len(); got != 1 {
		t.Fatalf("after the idle keys refilled: Len = %d, want 1 (busy)", got)
	}
	if ok, _ := l.Allow("busy"); !ok {
		t.Fatal("busy key lost its refill")
	}
}

// TestBoundedUnderKeySpray: an attacker using a new key per event cannot
// grow the map past MaxKeys, even when no bucket has refilled.
func TestBoundedUnderKeySpray(t *testing.T) {
	t.Parallel()
	c := newClock()
	const maxKeys = 320
	l := limiter(c, 0.001, 1, maxKeys)
	for i := range 100_000 {
		l.Allow(fmt.Sprint("10.0.", i/256, ".", i%256))
	}
	if got := l.Len(); got > maxKeys {
		t.Fatalf("Len = %d after a spray, want at most %d", got, maxKeys)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{time.Nanosecond, 1}, {time.Second, 1}, {time.Second + time.Millisecond, 2}, {0, 1}, {90 * time.Second, 90},
	} {
		if got := ratelimit.RetryAfterSeconds(tc.d); got != tc.want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	l := ratelimit.New(ratelimit.Config{Rate: 1e9, Burst: 1 << 30})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow("203.0.113.7")
		}
	})
}

func TestWaitPeeksWithoutTaking(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := limiter(c, 2, 2, 0)
	if w := l.Wait("k"); w != 0 {
		t.Fatalf("an unknown key waits %s", w)
	}
	for range 10 {
		l.Wait("k")
	}
	if l.Len() != 0 {
		t.Fatal("Wait created a bucket")
	}
	l.Allow("k")
	l.Allow("k")
	if w := l.Wait("k"); w != 500*time.Millisecond {
		t.Fatalf("empty bucket: Wait = %s, want 500ms", w)
	}
	c.add(250 * time.Millisecond)
	if w := l.Wait("k"); w != 250*time.Millisecond {
		t.Fatalf("half refilled: Wait = %s, want 250ms", w)
	}
	c.add(250 * time.Millisecond)
	if w := l.Wait("k"); w != 0 {
		t.Fatalf("refilled token: Wait = %s, want 0", w)
	}
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("Wait took the token it reported")
	}
	var nilLimiter *ratelimit.Limiter
	if nilLimiter.Wait("k") != 0 {
		t.Fatal("a nil limiter makes callers wait")
	}
}
