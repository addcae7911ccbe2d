package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/sse"
)

// sseBenchSizes are the subscriber counts of BenchmarkSSEFanout.
var sseBenchSizes = []int{10, 1000}

// byteCounter is where the SSE benchmark's streams write: it counts the
// bytes of every stream, as a socket drained by the client would.
type byteCounter struct {
	mu    sync.Mutex
	cond  *sync.Cond
	bytes int64
	// first is the size of the first write: one event.
	first int64
}

func newByteCounter() *byteCounter {
	c := &byteCounter{}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *byteCounter) add(n int) {
	c.mu.Lock()
	if c.first == 0 {
		c.first = int64(n)
	}
	c.bytes += int64(n)
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *byteCounter) wait(n int64) {
	c.mu.Lock()
	for c.bytes < n {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

// countingWriter is the response of one benchmark stream.
type countingWriter struct{ out *byteCounter }

func (w countingWriter) Write(p []byte) (int, error) { w.out.add(len(p)); return len(p), nil }
func (countingWriter) Flush()                        {}

// benchSSEConns returns n SSE connections of g, each with its stream
// running as ServeSSE runs it after the headers, writing to the counter.
func benchSSEConns(b *testing.B, g *Gateway, n int, out *byteCounter) []*conn {
	conns := make([]*conn, n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range conns {
		st := sse.NewStream(sseQueueFrames)
		conns[i] = &conn{gw: g, sink: sseSink{stream: st}, socketID: g.newSocketID(), appID: benchApp, key: "bench-key"}
		wg.Go(func() { st.Run(ctx, countingWriter{out}, sse.First{}, time.Hour, func(sse.Written) {}) })
	}
	b.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return conns
}

// BenchmarkSSEFanout delivers one message to N local SSE subscribers:
// deliver encodes it once, broadcast queues it on every stream, and each
// stream's loop writes it as an SSE event; an operation ends when all N
// events were written.
func BenchmarkSSEFanout(b *testing.B) {
	for _, n := range sseBenchSizes {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			g := benchGateway(b)
			out := newByteCounter()
			conns := benchSSEConns(b, g, n, out)
			subscribeAll(b, g, benchChannel, conns)
			msg := benchDelivery()
			// The first message tells the size of one event.
			g.deliver(msg)
			out.wait(1)
			out.mu.Lock()
			per := out.first
			out.mu.Unlock()
			want := per * int64(n)
			out.wait(want)
			b.ReportAllocs()
			for b.Loop() {
				g.deliver(msg)
				want += per * int64(n)
				out.wait(want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(n)), "ns/delivery")
		})
	}
}

// TestSSEFanoutEncodesOnce: a fan-out to SSE streams encodes the message
// once, and each stream writes its event from the payload and name it was
// handed, without allocating (before gateway/sse, each stream decoded the
// frame's JSON again to find the event name: 11 allocations per
// subscriber and message).
func TestSSEFanoutEncodesOnce(t *testing.T) {
	const subscribers = 10
	g := benchGateway(t)
	streams := make([]*sse.Stream, subscribers)
	conns := make([]*conn, subscribers)
	for i := range conns {
		streams[i] = sse.NewStream(sseQueueFrames)
		conns[i] = &conn{gw: g, sink: sseSink{stream: streams[i]}, socketID: g.newSocketID(), appID: benchApp}
	}
	subscribeAll(t, g, benchChannel, conns)
	msg := benchDelivery()
	buf := make([]byte, 0, 4096)
	fanout := func() {
		g.deliver(msg)
		for _, st := range streams {
			e := <-st.Events()
			buf = sse.AppendEvent(buf[:0], &e, 1)
		}
	}
	fanout()
	if want := "event: " + msg.Event + "\ndata: {\"event\":\"" + msg.Event + "\""; !strings.Contains(string(buf), want) {
		t.Fatalf("stream wrote %q, want it to hold %q", buf, want)
	}
	// One allocation: the frame, shared by every stream.
	if n := testing.AllocsPerRun(50, fanout); n > 1 {
		t.Fatalf("%v allocations per message to %d SSE streams, want 1", n, subscribers)
	}
}
