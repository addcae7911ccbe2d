package gateway

import (
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/hoptrace"
)

// fannedOut records the fan-out hop of a live delivery just broadcast,
// and its whole way from the publish request's arrival when the API
// stamped it. Only live deliveries carry stamps: gap repair's do not.
// Called only with Config.Hops set.
func (g *Gateway) fannedOut(d *stream.Delivery) {
	if d.Trace.PickedUp == 0 {
		return
	}
	now := time.Now().UnixNano()
	g.cfg.Hops.Since(hoptrace.Fanout, d.Trace.PickedUp, now)
	if d.Trace.Arrived != 0 {
		g.cfg.Hops.Since(hoptrace.EndToEndServer, d.Trace.Arrived, now)
	}
}
