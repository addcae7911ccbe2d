// Package ws is the WebSocket transport of Herald's gateway: a server-side
// RFC 6455 implementation (handshake in Upgrade, frame encoding in
// AppendFrame and friends, an incremental Parser of client frames) and, on
// Linux, an epoll-based Poller that serves thousands of idle connections
// without a goroutine each.
//
// Transports: the Poller has two implementations behind one API (Poller,
// Conn, Handler, PollerConfig). On Linux it is built on epoll (the files
// ending in _linux.go); on every other system, and on Linux when built
// with the tag herald_portable_ws (`go build -tags herald_portable_ws`,
// which `make test` uses to run the WebSocket tests on it too), each
// connection has a reader goroutine that blocks in Read, with net.Conn
// read deadlines for the frame read timeout and the lingering close
// (poller_portable.go, conn_portable.go). Both share the parser, the write
// side and the closing logic (conn.go) and behave alike; the portable one
// costs a goroutine and a read buffer per connection, so production
// gateways on Linux use epoll. What follows describes the epoll Poller
// where the two differ.
//
// The package knows nothing of Pusher: it moves UTF-8 text messages in and
// framed bytes out. Only what Herald needs is implemented: no subprotocols,
// no extensions (permessage-deflate is never negotiated), no client side
// (see package wstest for a test client), and binary messages are refused
// with close code 1003 because the Pusher protocol has none.
//
// Memory: an idle connection served by the Poller holds no goroutine and no
// buffer, only its socket's descriptor, a Conn (288 bytes, checked by
// TestConnSize) and an entry in the poller's table (see
// BenchmarkIdleConnMemory, and docs/performance.md for what a gateway
// connection costs in all). Workers read into their own buffers; a
// connection gets a buffer of its own only while a frame or a fragmented
// message is incomplete, never larger than its message size limit (a
// frame announcing more is refused from its header), and for no longer
// than PollerConfig.FrameReadTimeout. A single sweeper goroutine enforces
// that deadline, over the connections with a frame in progress only.
//
// Closing: after its close frame a connection shuts down its write side
// and lingers, reading and discarding, for PollerConfig.CloseLinger, so
// that frames the client had in flight do not make the kernel reset the
// connection and destroy the close frame. Lingering sockets are served by
// the workers like any other and hold no goroutine.
//
// Descriptors: Add takes a duplicate of the connection's descriptor and
// closes the net.Conn, so a connection costs no net.TCPConn, netFD or
// addresses on the heap and no runtime poll descriptor (together about
// 1 KiB of resident memory each). The Conn reads and writes the descriptor
// with plain system calls: the poller's epoll reports input; a write that
// finds the socket full waits, until its deadline, for a second epoll
// instance to report room (socket_linux.go). Write deadlines are a number
// the waiting write checks, not a runtime timer per connection.
//
// The Poller reads sockets directly. A *tls.Conn is served through a
// socketpair and two copying goroutines (bridge_linux.go); for many
// connections, terminate TLS in front of the gateway (load balancer or
// proxy) so that idle connections stay free of goroutines.
//
// A typical server:
//
//	p, _ := ws.NewPoller(ws.PollerConfig{Logger: logger})
//	defer p.Close() // releases its epoll instances and goroutines
//	go p.Run(ctx)
//	http.HandleFunc("/app/{key}", func(w http.ResponseWriter, r *http.Request) {
//		nc, initial, err := ws.Upgrade(w, r, ws.UpgradeConfig{})
//		if err != nil {
//			return // Upgrade has answered the client
//		}
//		session := newSession() // implements ws.Handler
//		c, err := p.Add(nc, session, initial)
//		...
//		c.Write(ws.AppendFrame(nil, ws.OpText, true, hello))
//	})
package ws
