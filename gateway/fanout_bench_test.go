package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/testinfra"
)

// benchChannel is the channel the fan-out benchmarks publish to.
const benchChannel = "bench-fanout"

// fanoutWarmup is how many messages BenchmarkFanout sends before it
// measures.
const fanoutWarmup = 5

// fanoutSizes are the subscriber counts of the fan-out benchmarks:
// allocations per message must be the same for all of them.
var fanoutSizes = []int{10, 1000, 10000}

// benchDelivery is a message as the live stream hands it to deliver: a
// typical 100-byte event.
func benchDelivery() *stream.Delivery {
	return &stream.Delivery{
		AppID: benchApp, Channel: benchChannel, Event: "price-update",
		Data: []byte(`{"symbol":"HRLD","price":"123.45","seq":` + strings.Repeat("7", 60) + `}`), Serial: 1,
	}
}

// BenchmarkFanout delivers one message to N local subscribers through the
// real path: deliver encodes the frame once, broadcast enqueues it on
// every subscriber's send queue, and each subscriber's writer goroutine
// writes it to a socket whose other end the benchmark drains; an
// operation ends when all N copies were read. Allocations per operation (per message)
// should not depend on N: the frame is encoded once and shared. The meter
// dimension runs it with usage metering on and off (docs/billing.md);
// with it on, every delivery must have been counted.
func BenchmarkFanout(b *testing.B) {
	for _, n := range fanoutSizes {
		for _, metered := range []bool{false, true} {
			b.Run(fmt.Sprintf("subscribers=%d/meter=%s", n, onOff(metered)), func(b *testing.B) {
				benchFanout(b, n, metered)
			})
		}
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func benchFanout(b *testing.B, n int, metered bool) {
	g := benchGateway(b)
	if metered {
		g.cfg.Meter = billing.NewMeter(nil)
	}
	conns, sink := benchConns(b, g, n)
	subscribeAll(b, g, benchChannel, conns)
	msg := benchDelivery()
	frameLen := int64(len(encodeFrame(&protocol.Message{
		Event: msg.Event, Channel: msg.Channel, Data: string(msg.Data), Serial: msg.Serial,
	})))
	// The first messages create what a connection keeps for the
	// next ones (its writer's closure, its queue's array) and let
	// the runtime grow its pool of goroutine descriptors to the
	// number of writers that run at once.
	var want int64
	for range fanoutWarmup {
		g.deliver(msg)
		want += frameLen * int64(n)
		sink.waitBytes(b, want)
	}
	b.ReportAllocs()
	cpu := testinfra.ProcessCPU(b)
	for b.Loop() {
		g.deliver(msg)
		want += frameLen * int64(n)
		sink.waitBytes(b, want)
	}
	cpu = testinfra.ProcessCPU(b) - cpu
	deliveries := float64(int64(b.N) * int64(n))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64(cpu.Nanoseconds())/deliveries, "cpu-ns/delivery")
	if metered {
		// The writers count after their write: wait for the last.
		a := g.cfg.Meter.App(benchApp)
		wantDelivered := int64(fanoutWarmup+b.N) * int64(n)
		deadline := time.Now().Add(meterWait)
		for a.Unflushed() != wantDelivered && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := a.Unflushed(); got != wantDelivered {
			b.Fatalf("metered %d deliveries; want %d", got, wantDelivered)
		}
	}
}

// meterWait bounds the wait for the writers' last counts.
const meterWait = 5 * time.Second

// BenchmarkBroadcast measures the fan-out alone: encoding the frame and
// enqueueing it on N send queues, no writer and no socket. Each
// subscriber's writer is marked running, so enqueue starts none; after
// each message the queues are emptied as the writer leaves them after a
// write: empty, keeping their array.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range fanoutSizes {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			g := benchGateway(b)
			conns := make([]*conn, n)
			for i := range conns {
				conns[i] = &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, writing: true}
			}
			subscribeAll(b, g, benchChannel, conns)
			msg := benchDelivery()
			b.ReportAllocs()
			for b.Loop() {
				g.deliver(msg)
				b.StopTimer()
				for _, c := range conns {
					c.mu.Lock()
					clear(c.queue)
					c.queue, c.queued = c.queue[:0], 0
					c.mu.Unlock()
				}
				b.StartTimer()
			}
		})
	}
}
