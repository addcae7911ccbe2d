package bench

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	cases := []struct {
		rate    float64
		d       time.Duration
		total   int64
		elapsed time.Duration
		due     int64
	}{
		{1000, time.Second, 1000, 0, 1},
		{1000, time.Second, 1000, time.Millisecond - 1, 1},
		{1000, time.Second, 1000, time.Millisecond, 2},
		{1000, time.Second, 1000, 500 * time.Millisecond, 501},
		{1000, time.Second, 1000, 10 * time.Second, 1000},
		{3, 2 * time.Second, 6, 999 * time.Millisecond, 3},
		{0.5, 10 * time.Second, 5, 3 * time.Second, 2},
		{100, time.Second, 100, -time.Second, 0},
	}
	for _, c := range cases {
		p := NewPacer(c.rate, c.d)
		if p.Total != c.total {
			t.Errorf("NewPacer(%v, %v).Total = %d, want %d", c.rate, c.d, p.Total, c.total)
		}
		if got := p.Due(c.elapsed); got != c.due {
			t.Errorf("rate %v: Due(%v) = %d, want %d", c.rate, c.elapsed, got, c.due)
		}
	}
}

// TestPacerSchedule checks that each publish is due exactly from At(i) on,
// for rates whose intervals are not whole nanoseconds.
func TestPacerSchedule(t *testing.T) {
	for _, rate := range []float64{1, 7, 333, 1000, 4999} {
		p := NewPacer(rate, 3*time.Second)
		for i := range p.Total {
			at := p.At(i)
			if got := p.Due(at); got < i+1 {
				t.Fatalf("rate %v: Due(At(%d)=%v) = %d: publish %d not due at its time", rate, i, at, got, i)
			}
			if at > 0 {
				if got := p.Due(at - 1); got > i {
					t.Fatalf("rate %v: Due(At(%d)-1ns) = %d: publish %d due early", rate, i, got, i)
				}
			}
		}
	}
}
