package stream

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/internal/hoptrace"
)

// HeaderTraceT0 carries a publish request's arrival time (Unix ns) on a
// stored message when hop tracing is on (Message.TraceT0), so that the
// gateway can time the whole way on the host's clock.
const HeaderTraceT0 = "Herald-Trace-T0"

// Trace holds a live delivery's hop timing stamps, in Unix nanoseconds;
// a zero field was not stamped.
type Trace struct {
	// Arrived is when the publish request reached the API (HeaderTraceT0).
	Arrived int64
	// PickedUp is when the live shard took the message from its queue.
	PickedUp int64
}

// stampHops records the republish hop, from the stream's store time to
// now, and stamps d for the Handler's hops. It runs only with tracing on:
// the time stamp and the header lookup are its cost.
func stampHops(hops *hoptrace.Recorder, d *Delivery, m *nats.Msg) {
	now := time.Now().UnixNano()
	d.Trace.PickedUp = now
	hops.Since(hoptrace.Republish, d.Time.UnixNano(), now)
	if v := directget.First(m.Header, HeaderTraceT0); v != "" {
		// A malformed stamp is left out, not an error: it only times.
		d.Trace.Arrived, _ = strconv.ParseInt(v, 10, 64)
	}
}
