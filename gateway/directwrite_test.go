package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestDirectWritesKeepOrder: a subscriber that stops reading gets its
// first messages written by the fan-out itself, then, once its socket is
// full, the rest through its send queue and writer. Reading again, it
// finds every message once, whole and in order, and the meter counted
// each exactly once whichever way it went.
func TestDirectWritesKeepOrder(t *testing.T) {
	const messages = 600
	g := benchGateway(t)
	g.cfg.Meter = billing.NewMeter(nil)
	// Room for everything in the queue: this test is about order, not
	// about cutting a slow consumer off.
	g.cfg.SendQueueBytes = 64 << 20
	server, client := testinfra.TCPPair(t)
	wc, err := g.poller.Add(server, nopHandler{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, key: "bench-key", meter: g.cfg.Meter.App(benchApp).Shard()}
	c.setWS(wc)
	subscribeAll(t, g, benchChannel, []*conn{c})

	payload := strings.Repeat("x", 16<<10) // the socket fills after a few dozen
	for serial := uint64(1); serial <= messages; serial++ {
		g.deliver(&stream.Delivery{AppID: benchApp, Channel: benchChannel, Event: "e", Data: []byte(payload), Serial: serial, PrevSerial: serial - 1})
	}
	c.mu.Lock()
	queued := len(c.queue)
	c.mu.Unlock()
	t.Logf("%d of %d messages waiting in the send queue after the fan-outs", queued, messages)

	r := wstest.Wrap(client)
	for serial := 1; serial <= messages; serial++ {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("message %d: %v", serial, err)
		}
		want := fmt.Sprintf(`"serial":%d`, serial)
		if f.Op != ws.OpText || !f.Fin || !bytes.Contains(f.Payload, []byte(want)) {
			t.Fatalf("message %d: %v of %d bytes, want one holding %s", serial, f.Op, len(f.Payload), want)
		}
	}
	deadline := time.Now().Add(meterWait)
	a := g.cfg.Meter.App(benchApp)
	for a.Unflushed() != messages && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := a.Unflushed(); got != messages {
		t.Fatalf("metered %d deliveries; want %d", got, messages)
	}
}
