package gateway

import (
	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/gateway/protocol"
)

// meterCounts is what a batch of queued frames holds for the meter
// (docs/billing.md, "Counting rules"): channel events with their frame
// bytes, and presence member events. Protocol frames count nothing.
type meterCounts struct {
	events     int32
	presence   int32
	eventBytes int64
}

// add counts h if it is a channel event (it has a serial: live, replayed
// or a cache channel's entry) or a member_added / member_removed.
func (m *meterCounts) add(h *heldFrame) {
	switch {
	case h.serial != 0:
		m.events++
		m.eventBytes += int64(len(h.frame))
	case h.event == protocol.EventMemberAdded || h.event == protocol.EventMemberRemoved:
		m.presence++
	}
}

// count tells the meter what a write put on the wire: one atomic add per
// counter per batch, none for a batch of protocol frames.
func (m meterCounts) count(a *billing.MeterShard) {
	if m.events != 0 {
		a.Delivered(int64(m.events), m.eventBytes)
	}
	if m.presence != 0 {
		a.Presence(int64(m.presence))
	}
}

// ConnSample is an app's cluster-wide connection count for
// peak_connections, given this gateway's: with metering on, every
// gateway reports every app's count to bus/conncount (ConnCounts), so the
// others' are known (docs/billing.md).
func (g *Gateway) ConnSample(appID string, local int64) int64 {
	if g.cfg.ClusterConns == nil {
		return local
	}
	return local + int64(g.cfg.ClusterConns.Remote(appID))
}
