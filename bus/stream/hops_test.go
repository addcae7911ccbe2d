package stream_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/hoptrace"
)

// TestLiveHopStamps: with Hops set, a live delivery carries the arrival
// stamp the publisher stored and its pick-up time, and the republish hop
// is counted; without, a delivery carries no stamp.
func TestLiveHopStamps(t *testing.T) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			p := newPublisher(t, e.js, 0)
			rec := newRecorder()
			var hops *hoptrace.Recorder
			if on {
				hops = hoptrace.New()
			}
			l := startLive(t, stream.LiveConfig{
				NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{}), Handler: rec.handle, Hops: hops,
			})
			subscribe(t, l, "c")
			t0 := time.Now().UnixNano()
			m := msg("c", "ev", "1")
			m.TraceT0 = t0
			rec.waitSerials(t, "c", []uint64{publish(t, p, m)})
			got := rec.deliveries("c")[0].Trace
			if !on {
				if got != (stream.Trace{}) {
					t.Fatalf("stamps %+v with tracing off", got)
				}
				return
			}
			if got.Arrived != t0 || got.PickedUp < t0 {
				t.Fatalf("stamps %+v, want Arrived %d and PickedUp after it", got, t0)
			}
			if n := hops.Snapshot(hoptrace.Republish).Count; n != 1 {
				t.Fatalf("republish counted %d times, want 1", n)
			}
		})
	}
}
