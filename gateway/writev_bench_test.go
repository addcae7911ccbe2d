package gateway

import (
	"fmt"
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/heraldhq/herald/gateway/protocol"
)

// seqpacketConn returns one connection of g whose WebSocket writes to a
// SOCK_SEQPACKET socket, and the sink draining its peer: each write call
// of the connection is one record there, so the sink's reads count writes.
func seqpacketConn(tb testing.TB, g *Gateway) (*conn, *drainer) {
	tb.Helper()
	server, client := socketPair(tb, unix.SOCK_SEQPACKET)
	nc, err := net.FileConn(server)
	server.Close()
	if err != nil {
		tb.Fatal(err)
	}
	wc, err := g.poller.Add(nc, nopHandler{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, key: "bench-key"}
	c.setWS(wc)
	s := newDrainer()
	s.drain(tb, client)
	return c, s
}

// BenchmarkWritev shows that frames queued for a client that is behind go
// out together: one write call (a writev) per batch instead of one per
// frame. Each operation queues k frames while the connection's writer is
// busy (as it is while a previous write to a slow client is in progress),
// then lets the writer run. The writes reach a SOCK_SEQPACKET socket whose
// records count them; the benchmark fails unless each batch took exactly
// one write, and reports frames/write.
func BenchmarkWritev(b *testing.B) {
	frame := encodeFrame(&protocol.Message{
		Event: "price-update", Channel: benchChannel, Serial: 1,
		Data: `{"symbol":"HRLD","price":"123.45"}`,
	})
	for _, k := range []int{1, 8, 64, 256} {
		b.Run(fmt.Sprintf("behind/frames=%d", k), func(b *testing.B) {
			g := benchGateway(b)
			c, s := seqpacketConn(b, g)
			var want, writes int64
			b.ReportAllocs()
			b.SetBytes(int64(k * len(frame)))
			for b.Loop() {
				c.mu.Lock()
				c.writing = true // a write is in progress
				c.mu.Unlock()
				for range k {
					if !c.enqueue(frame) {
						b.Fatal("frame refused")
					}
				}
				c.writeLoop() // the previous write returned
				want += int64(k * len(frame))
				writes = s.waitBytes(b, want)
			}
			if writes != int64(b.N) {
				b.Fatalf("%d batches of %d frames took %d writes", b.N, k, writes)
			}
			b.ReportMetric(float64(int64(k)*int64(b.N))/float64(writes), "frames/write")
		})
	}
	// A burst through the normal path: the first frame starts the writer,
	// the ones queued while it writes share the next write.
	b.Run("burst/frames=64", func(b *testing.B) {
		const k = 64
		g := benchGateway(b)
		c, s := seqpacketConn(b, g)
		var want, writes int64
		b.SetBytes(int64(k * len(frame)))
		for b.Loop() {
			for range k {
				c.enqueue(frame)
			}
			want += int64(k * len(frame))
			writes = s.waitBytes(b, want)
		}
		b.ReportMetric(float64(int64(k)*int64(b.N))/float64(writes), "frames/write")
	})
}
