package e2e_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// connectBenchBatch is how many connections BenchmarkConnectSubscribe
// holds open before it closes them (timer stopped): the client's and the
// server's ends of every connection share this process's open-file limit.
const connectBenchBatch = 2000

// connectBenchSettle is how long the benchmark leaves the server to clean
// up a closed batch before it measures again.
const connectBenchSettle = 300 * time.Millisecond

// BenchmarkConnectSubscribe measures what a new client costs: the
// WebSocket handshake, pusher:connection_established, one pusher:subscribe
// to a channel others already hold, and its subscription_succeeded. The
// client is a minimal hand-written one in this process, so the figures
// are mostly the server's: cpu-µs/conn is this process's CPU per
// connection (docs/performance.md, "Connection rate").
//
//	go test -run '^$' -bench ConnectSubscribe -benchtime 10000x ./internal/e2e/
func BenchmarkConnectSubscribe(b *testing.B) {
	h := testenv.Herald(b)
	addr := strings.TrimPrefix(h.URL(), "http://")
	request := []byte("GET /app/" + key + "?protocol=7&client=bench&version=1.0&flash=false HTTP/1.1\r\n" +
		"Host: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	subscribe := maskedText(`{"event":"pusher:subscribe","data":{"channel":"bench-connect"}}`)
	buf := make([]byte, 4096)
	open := make([]net.Conn, 0, connectBenchBatch)
	closeAll := func() {
		for _, c := range open {
			_ = c.Close()
		}
		open = open[:0]
	}
	defer closeAll()
	// One subscriber holds the channel, as in a real app: the benchmark
	// measures joining a channel, not creating its NATS subscription.
	holder := connectSubscribe(b, addr, request, subscribe, buf)
	defer holder.Close()

	b.ReportAllocs()
	b.ResetTimer()
	cpu := testinfra.ProcessCPU(b)
	for range b.N {
		if len(open) == connectBenchBatch {
			b.StopTimer()
			cpu -= testinfra.ProcessCPU(b)
			closeAll()
			time.Sleep(connectBenchSettle)
			cpu += testinfra.ProcessCPU(b)
			b.StartTimer()
		}
		open = append(open, connectSubscribe(b, addr, request, subscribe, buf))
	}
	cpu = testinfra.ProcessCPU(b) - cpu
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/conn")
}

// connectSubscribe opens one connection and subscribes it.
func connectSubscribe(tb testing.TB, addr string, request, subscribe, buf []byte) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Write(request); err != nil {
		tb.Fatal(err)
	}
	readUntil(tb, c, buf, "pusher:connection_established")
	if _, err := c.Write(subscribe); err != nil {
		tb.Fatal(err)
	}
	readUntil(tb, c, buf, "pusher_internal:subscription_succeeded")
	return c
}

// readUntil reads from c until what it read holds marker.
func readUntil(tb testing.TB, c net.Conn, buf []byte, marker string) {
	n := 0
	for !bytes.Contains(buf[:n], []byte(marker)) {
		if n == len(buf) {
			tb.Fatalf("no %s in %q", marker, buf[:n])
		}
		m, err := c.Read(buf[n:])
		if err != nil {
			tb.Fatalf("waiting for %s: %v (read %q)", marker, err, buf[:n])
		}
		n += m
	}
}

// maskedText is a client's text frame (RFC 6455 section 5.2) with a zero
// masking key, which leaves the payload as it is. The payload must be
// under 126 bytes.
func maskedText(payload string) []byte {
	const fin, text, masked = 0x80, 0x1, 0x80
	return append([]byte{fin | text, masked | byte(len(payload)), 0, 0, 0, 0}, payload...)
}
