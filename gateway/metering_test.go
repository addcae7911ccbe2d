package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/gateway/protocol"
)

// meteredConns is benchConns with metering on: n connections of benchApp
// whose writers write to drained sockets.
func meteredConns(t *testing.T, n int) (*Gateway, []*conn, *drainer, *billing.AppMeter) {
	t.Helper()
	g := benchGateway(t)
	g.cfg.Meter = billing.NewMeter(nil)
	conns, sink := benchConns(t, g, n)
	return g, conns, sink, g.cfg.Meter.App(benchApp)
}

// waitCounts waits until the meter's flushes add up to exactly want
// (the connection time and peak left out: they depend on the clock).
func waitCounts(t *testing.T, m *billing.Meter, want billing.Counters) {
	t.Helper()
	var got billing.Counters
	f, err := billing.NewFlusher(billing.FlusherConfig{Meter: m, Process: "test",
		Publish: func(_ context.Context, _ string, payload []byte) error {
			fl, err := billing.DecodeFlush(payload)
			for _, u := range fl.Apps {
				u.Counters.ConnectionSeconds, u.Counters.PeakConnections = 0, 0
				got.Add(u.Counters)
			}
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(meterWait)
	for {
		if err := f.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got != want {
		t.Fatalf("metered %+v; want %+v", got, want)
	}
}

// Channel events and presence events written to a socket are counted
// with their frame bytes; protocol frames, and the sender a message
// excludes, are not.
func TestMeterCountsWrittenFrames(t *testing.T) {
	g, conns, sink, _ := meteredConns(t, 3)
	subscribeAll(t, g, benchChannel, conns)
	msg := benchDelivery()
	msg.ExcludeSocket = conns[0].socketID
	frame := int64(len(encodeFrame(&protocol.Message{Event: msg.Event, Channel: msg.Channel, Data: string(msg.Data), Serial: msg.Serial})))
	g.deliver(msg)
	conns[1].send(protocol.Pong())
	cs := g.hub.get(chanKey{app: benchApp, name: benchChannel})
	member := encodeFrame(&protocol.Message{Event: protocol.EventMemberAdded, Channel: benchChannel, Data: `{"user_id":"u"}`})
	cs.broadcast(heldFrame{frame: member, event: protocol.EventMemberAdded}, "", false)
	sink.waitBytes(t, 2*frame+int64(len(protocol.Pong()))+2 /* pong's header */ +3*int64(len(member)))
	waitCounts(t, g.cfg.Meter, billing.Counters{MessagesDelivered: 2, BytesOut: 2 * frame, PresenceEvents: 3})
}

// Frames dropped with a slow consumer's backlog were never written: they
// count nothing.
func TestMeterSkipsDroppedFrames(t *testing.T) {
	g := benchGateway(t)
	g.cfg.Meter = billing.NewMeter(nil)
	msg := benchDelivery()
	frame := encodeFrame(&protocol.Message{Event: msg.Event, Channel: msg.Channel, Data: string(msg.Data), Serial: msg.Serial})
	g.cfg.SendQueueBytes = 2*len(frame) - 1
	// The writer is marked running, so nothing is written: the second
	// frame overflows the queue and the backlog is dropped.
	c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, writing: true, meter: g.cfg.Meter.App(benchApp).Shard()}
	c.enqueueFor(nil, heldFrame{serial: 1, frame: frame})
	if c.metered.events != 1 {
		t.Fatalf("queued events %d; want 1", c.metered.events)
	}
	if c.enqueueLocked(heldFrame{serial: 2, frame: frame}); c.metered != (meterCounts{}) {
		t.Fatalf("dropped backlog still metered: %+v", c.metered)
	}
}
