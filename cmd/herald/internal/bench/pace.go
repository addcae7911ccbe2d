package bench

import (
	"math"
	"time"
)

// Pacer spreads Total publishes evenly at Rate per second, open loop: the
// i-th (from 0) is due at i/Rate seconds after the start, whether or not
// the earlier ones have finished, so that a slow server is not hidden by a
// publisher that waits for it.
type Pacer struct {
	Rate  float64
	Total int64
}

// NewPacer returns a Pacer for rate publishes per second during d.
func NewPacer(rate float64, d time.Duration) Pacer {
	return Pacer{Rate: rate, Total: int64(math.Round(rate * d.Seconds()))}
}

// At returns when publish i is due, from the start.
func (p Pacer) At(i int64) time.Duration {
	return time.Duration(float64(i) / p.Rate * float64(time.Second))
}

// Due returns how many publishes are due by elapsed: the first is due at
// once, and never more than Total.
func (p Pacer) Due(elapsed time.Duration) int64 {
	if elapsed < 0 || p.Total <= 0 {
		return 0
	}
	n := int64(math.Floor(elapsed.Seconds()*p.Rate)) + 1
	// At rounds down: make Due(At(i)) include i despite float error.
	for n < p.Total && p.At(n) <= elapsed {
		n++
	}
	return min(n, p.Total)
}
