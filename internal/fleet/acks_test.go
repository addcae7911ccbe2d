package fleet

import (
	"testing"
	"time"
)

func TestReceivedMissingAndDisorder(t *testing.T) {
	tests := []struct {
		name         string
		after        uint64
		acked, got   []uint64
		missing      int
		disorder     int
		firstMissing []uint64
	}{
		{name: "all", acked: []uint64{1, 4, 9}, got: []uint64{1, 4, 9}},
		{name: "unacked extra is fine", acked: []uint64{4}, got: []uint64{1, 4, 9}},
		{name: "gap", acked: []uint64{1, 4, 9}, got: []uint64{1, 9}, missing: 1, firstMissing: []uint64{4}},
		{name: "duplicate", acked: []uint64{1, 4}, got: []uint64{1, 4, 4}, disorder: 1},
		{name: "out of order", acked: []uint64{1, 4, 9}, got: []uint64{1, 9, 4}, missing: 1, disorder: 1, firstMissing: []uint64{4}},
		{name: "before the start is not owed", after: 4, acked: []uint64{1, 4, 9}, got: []uint64{9}},
		{name: "nothing", acked: []uint64{2, 3}, missing: 2, firstMissing: []uint64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := received{after: tt.after}
			for _, s := range tt.got {
				r.add(s)
			}
			m, first := r.missing(tt.acked)
			if m != tt.missing || r.disorder != tt.disorder || len(first) != len(tt.firstMissing) {
				t.Fatalf("missing %d %v, disorder %d; want %d %v, %d", m, first, r.disorder, tt.missing, tt.firstMissing, tt.disorder)
			}
			for i := range first {
				if first[i] != tt.firstMissing[i] {
					t.Fatalf("first missing %v, want %v", first, tt.firstMissing)
				}
			}
		})
	}
}

func TestAcksSortedPerChannel(t *testing.T) {
	a := NewAcks()
	for _, s := range []uint64{9, 2, 5} {
		a.Add("x", s)
	}
	a.Add("y", 3)
	if got := a.sorted("x"); len(got) != 3 || got[0] != 2 || got[2] != 9 {
		t.Fatalf("sorted x = %v", got)
	}
	if a.Count() != 4 {
		t.Fatalf("count %d", a.Count())
	}
}

func TestDurations(t *testing.T) {
	var d Durations
	if d.Quantile(0.99) != 0 || d.Max() != 0 {
		t.Fatal("empty durations are not zero")
	}
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if q := d.Quantile(0.5); q != 50*time.Millisecond {
		t.Fatalf("p50 %s", q)
	}
	if q := d.Quantile(0.99); q != 99*time.Millisecond {
		t.Fatalf("p99 %s", q)
	}
	if m := d.Max(); m != 100*time.Millisecond {
		t.Fatalf("max %s", m)
	}
	h := d.Histogram([]time.Duration{10 * time.Millisecond, 50 * time.Millisecond})
	if h[0] != 10 || h[1] != 40 || h[2] != 50 {
		t.Fatalf("histogram %v", h)
	}
}
