package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Environment of BenchmarkIdleConnMemory and of its client process.
const (
	// envIdleConns sets how many idle connections the benchmark opens.
	envIdleConns = "WS_IDLE_CONNS"
	// envIdleClient, set to the server's address, turns the test binary
	// into the benchmark's client process (see TestMain).
	envIdleClient = "WS_IDLE_CLIENT"
	// defaultIdleConns is the benchmark's default connection count.
	defaultIdleConns = 2000
)

// TestMain runs the idle client of BenchmarkIdleConnMemory when the
// benchmark starts the test binary as its client, and the tests otherwise.
func TestMain(m *testing.M) {
	if addr := os.Getenv(envIdleClient); addr != "" {
		if err := idleClient(addr); err != nil {
			fmt.Fprintln(os.Stderr, "idle client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// BenchmarkIdleConnMemory measures what an idle connection costs the
// server: it opens N connections (WS_IDLE_CONNS, default 2000) from a
// separate client process, each of which sends one message (so that every
// connection has been read and parsed once) and then stays idle, so that only the server's side is counted and
// the client's file descriptors do not count against this process's limit,
// and reports the Go heap and the resident memory added per connection
// after a GC, and the goroutines per connection. Raise ulimit -n above N.
func BenchmarkIdleConnMemory(b *testing.B) {
	n := defaultIdleConns
	if v := os.Getenv(envIdleConns); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("%s: %v", envIdleConns, err)
		}
	}
	p, err := ws.NewPoller(ws.PollerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.Run(ctx); err != nil {
			b.Error(err)
		}
	})
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		p.Close()
	})
	handler := &idleHandler{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, initial, err := ws.Upgrade(w, r, ws.UpgradeConfig{})
		if err != nil {
			return
		}
		if _, err := p.Add(nc, handler, initial); err != nil {
			b.Error(err)
		}
	})}
	wg.Go(func() { _ = srv.Serve(ln) })
	b.Cleanup(func() { srv.Close() })

	// Warm up: one connection through every path, so that first-use
	// allocations land in the baseline.
	if err := idleClientConns(ln.Addr().String(), 1, func([]net.Conn) error { return nil }); err != nil {
		b.Fatal(err)
	}
	testinfra.WaitUntil(b, "every connection closed", func() bool { return p.Stats().Open == 0 })
	handler.messages.Store(0)
	heap0, rss0 := memoryInUse(b)
	goroutines0 := runtime.NumGoroutine()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envIdleClient+"="+ln.Addr().String(), envIdleConns+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close() // the client exits when its stdin closes
		if err := cmd.Wait(); err != nil {
			b.Errorf("client: %v", err)
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("client: %q, %v", line, err)
	}
	// Wait for the poller to hold every connection and have read its
	// message, and for the HTTP server's goroutines to end.
	testinfra.WaitUntil(b, "every connection held and read", func() bool {
		return p.Stats().Open == int64(n) && handler.messages.Load() == int64(n) &&
			runtime.NumGoroutine() <= goroutines0+2
	})
	heap1, rss1 := memoryInUse(b)

	goroutines := runtime.NumGoroutine() - goroutines0
	for b.Loop() {
		// The measurement above is the result; nothing to repeat.
	}
	// After the loop: b.Loop resets the metrics reported before it.
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(heap1-heap0)/float64(n), "heap-B/conn")
	b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/conn")
	b.ReportMetric(float64(goroutines)/float64(n), "goroutines/conn")
}

// idleHandler counts messages and does nothing else.
type idleHandler struct{ messages atomic.Int64 }

func (h *idleHandler) OnMessage(*ws.Conn, ws.Opcode, []byte) { h.messages.Add(1) }
func (h *idleHandler) OnClose(*ws.Conn, error)               {}

// idleClient opens the benchmark's connections, says "ready" on stdout and
// keeps them open until stdin closes.
func idleClient(addr string) error {
	n, err := strconv.Atoi(os.Getenv(envIdleConns))
	if err != nil {
		return err
	}
	return idleClientConns(addr, n, func([]net.Conn) error {
		if _, err := fmt.Println("ready"); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, os.Stdin)
		return err
	})
}

// idleClientConns opens n upgraded connections to addr, a few at a time,
// calls hold, then closes them.
func idleClientConns(addr string, n int, hold func([]net.Conn) error) error {
	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	const parallel = 32
	sem := make(chan struct{}, parallel)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialIdle(addr)
			conns[i] = c
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return hold(conns)
}

// dialIdle opens one connection and completes the handshake, keeping
// nothing but the socket.
func dialIdle(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		return nil, err
	}
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		c.Close()
		return nil, err
	}
	req := "GET /app/key HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	// Read the response byte by byte so as not to read past it.
	var resp []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		if _, err := c.Read(one); err != nil {
			c.Close()
			return nil, err
		}
		resp = append(resp, one[0])
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 101 ") {
		c.Close()
		return nil, errors.New("handshake refused: " + string(resp))
	}
	hello := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte(`{"event":"pusher:subscribe","data":{"channel":"room"}}`), wstest.RandomKey())
	if _, err := c.Write(hello); err != nil {
		c.Close()
		return nil, err
	}
	return c, c.SetDeadline(time.Time{})
}

// memoryInUse returns the live Go heap and the resident set size after a
// full GC that returns freed memory to the OS.
func memoryInUse(tb testing.TB) (heap, rss int64) {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Fatal(err)
	}
	fields := strings.Fields(string(statm))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return int64(ms.HeapAlloc), pages * int64(os.Getpagesize())
}
