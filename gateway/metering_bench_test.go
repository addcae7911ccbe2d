package gateway

import (
	"testing"

	"github.com/heraldhq/herald/billing"
)

// BenchmarkMeterCount is everything metering adds to a delivery: a
// writer's tally of the frame it wrote and the atomic adds to its
// connection's shard of the app's meter, run on every core at once
// against one app, as the writers of a large fan-out do (each goroutine
// is a connection with a shard of its own). It bounds what metering costs per delivery from
// above (a write of k frames pays this once, not k times), beside
// BenchmarkFanout's meter=on/off pairs, whose noise on a shared machine
// is larger than the difference.
func BenchmarkMeterCount(b *testing.B) {
	a := billing.NewMeter(nil).App(benchApp)
	h := &heldFrame{serial: 1, frame: make([]byte, 200)}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		shard := a.Shard()
		for pb.Next() {
			var m meterCounts
			m.add(h)
			m.count(shard)
		}
	})
}
