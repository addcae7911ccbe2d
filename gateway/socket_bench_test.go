package gateway

import (
	"net"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/ws"
)

// benchSocketBuffer is the socket buffer size asked for on benchmark
// sockets, so that a fan-out to thousands of subscribers does not stall on
// a full buffer more often than a real one would.
const benchSocketBuffer = 4 << 20

// benchApp is the app id of the benchmarks' connections.
const benchApp = "bench-app"

// nopHandler is the ws.Handler of benchmark connections: nothing is ever
// read from them.
type nopHandler struct{}

func (nopHandler) OnMessage(*ws.Conn, ws.Opcode, []byte) {}
func (nopHandler) OnClose(*ws.Conn, error)               {}

// benchGateway returns a Gateway with only what fan-out touches (hub,
// metrics, send queue limit) and a poller to own its connections' sockets.
// Nothing runs: no NATS, no poller loop.
func benchGateway(tb testing.TB) *Gateway {
	tb.Helper()
	cfg := Config{}
	cfg.setDefaults()
	g := &Gateway{cfg: cfg, hub: newHub(), replaySlots: make(chan struct{}, maxConcurrentReplays)}
	m, err := newMetrics(nil, func() float64 { return float64(g.hub.count()) }, false)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ws.NewPoller(ws.PollerConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	g.metrics, g.poller = m, p
	return g
}

// socketPair returns the two ends of a connected Unix socket pair of the
// given type (unix.SOCK_STREAM or unix.SOCK_SEQPACKET), with large
// buffers: the server end as a file to dup connections from, the client
// end as a net.Conn. Both are closed at cleanup.
func socketPair(tb testing.TB, typ int) (server *os.File, client net.Conn) {
	tb.Helper()
	// Not SOCK_CLOEXEC in typ: macOS lacks it.
	fds, err := unix.Socketpair(unix.AF_UNIX, typ, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		// Best effort: the kernel caps it at net.core.wmem_max.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, benchSocketBuffer)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, benchSocketBuffer)
	}
	server = os.NewFile(uintptr(fds[0]), "server")
	cf := os.NewFile(uintptr(fds[1]), "client")
	client, err = net.FileConn(cf)
	cf.Close()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// connsPerSocket is how many benchmark connections share one socket (each
// through a dup of its descriptor). Sharing keeps 10,000 subscribers
// within the descriptor limit; sharing one socket among all of them would
// not do, since every read of the peer end would then wake every writer
// blocked on the socket and the benchmark would measure that herd.
const connsPerSocket = 4

// benchConns returns n connections of g, each with a WebSocket over a real
// socket, and the sink that drains the other ends.
func benchConns(tb testing.TB, g *Gateway, n int) ([]*conn, *drainer) {
	tb.Helper()
	s := newDrainer()
	conns := make([]*conn, n)
	var server *os.File
	for i := range conns {
		if i%connsPerSocket == 0 {
			if server != nil {
				server.Close()
			}
			var client net.Conn
			server, client = socketPair(tb, unix.SOCK_STREAM)
			s.drain(tb, client)
		}
		nc, err := net.FileConn(server) // dups the descriptor
		if err != nil {
			tb.Fatalf("connection %d: %v (raise ulimit -n)", i, err)
		}
		wc, err := g.poller.Add(nc, nopHandler{}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, key: "bench-key", meter: g.cfg.Meter.App(benchApp).Shard()}
		c.setWS(wc)
		conns[i] = c
	}
	if server != nil {
		server.Close()
	}
	return conns, s
}

// subscribeAll joins every connection to one channel of the hub, as the
// subscribe handler does, without the NATS subscription.
func subscribeAll(tb testing.TB, g *Gateway, name string, conns []*conn) {
	tb.Helper()
	ch, err := channels.ParseChannel(name)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range conns {
		cs, first := g.hub.join(chanKey{app: benchApp, name: name}, ch, c, nil)
		if first {
			close(cs.ready)
		}
	}
}

// drainer reads sockets in the background and counts what arrives: bytes,
// and reads (for a SOCK_SEQPACKET socket each read returns exactly one
// write of the other end, so reads count the writes).
type drainer struct {
	mu    sync.Mutex
	cond  *sync.Cond
	bytes int64
	reads int64
	err   error
}

func newDrainer() *drainer {
	s := &drainer{}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// drain starts reading c until it fails (at cleanup, when c is closed).
func (s *drainer) drain(tb testing.TB, c net.Conn) {
	tb.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Larger than any write of the benchmarks, so that one read
		// takes one whole SOCK_SEQPACKET record.
		buf := make([]byte, maxBenchWrite)
		for {
			n, err := c.Read(buf)
			s.mu.Lock()
			if err != nil {
				if s.err == nil {
					s.err = err
				}
				s.cond.Broadcast()
				s.mu.Unlock()
				return
			}
			s.bytes += int64(n)
			s.reads++
			s.cond.Broadcast()
			s.mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		_ = c.Close()
		<-done
	})
}

// maxBenchWrite bounds what one write of a benchmark connection carries.
const maxBenchWrite = 1 << 20

// waitBytes blocks until at least n bytes in total were read, and returns
// the reads so far.
func (s *drainer) waitBytes(tb testing.TB, n int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.bytes < n && s.err == nil {
		s.cond.Wait()
	}
	if s.bytes < n {
		tb.Fatalf("drain: %d of %d bytes: %v", s.bytes, n, s.err)
	}
	return s.reads
}
