package gateway

import (
	"testing"
	"time"
)

// TestTokenBucket: a connection's client-event bucket starts full, spends
// one token per event, refills at rate per second and never holds more
// than rate.
func TestTokenBucket(t *testing.T) {
	const rate = 2
	start := time.Unix(1000, 0).UnixNano()
	cases := []struct {
		name string
		// takes are the times of successive events, from start.
		takes []time.Duration
		want  []bool
	}{
		{"a burst of rate, then refused", []time.Duration{0, 0, 0}, []bool{true, true, false}},
		{"refilled after half a second", []time.Duration{0, 0, 0, 500 * time.Millisecond, 500 * time.Millisecond}, []bool{true, true, false, true, false}},
		{"never more than rate after a long pause", []time.Duration{0, 0, time.Hour, time.Hour, time.Hour}, []bool{true, true, true, true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &tokenBucket{tokens: rate, atNs: start}
			for i, at := range tc.takes {
				if got := b.take(start+int64(at), rate); got != tc.want[i] {
					t.Fatalf("event %d at +%v: take = %v, want %v", i, at, got, tc.want[i])
				}
			}
		})
	}
}
