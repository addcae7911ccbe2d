// Package ws is the WebSocket transport of Herald's gateway: a server-side
// RFC 6455 implementation (handshake in Upgrade, frame encoding in
// AppendFrame and friends, an incremental Parser of client frames) and, on
// Linux, an epoll-based Poller that serves thousands of idle connections
// without a goroutine each.
//
// The package knows nothing of Pusher: it moves UTF-8 text messages in and
// framed bytes out. Only what Herald needs is implemented: no subprotocols,
// no extensions (permessage-deflate is never negotiated), no client side
// (see package wstest for a test client), and binary messages are refused
// with close code 1003 because the Pusher protocol has none.
//
// Memory: an idle connection served by the Poller holds no goroutine and no
// buffer, only its socket, a Conn and an entry in the poller's table (about
// 0.7 KiB of Go heap and 1.5 KiB of resident memory at 10,000 connections,
// see BenchmarkIdleConnMemory). Workers read into their own buffers; a
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
// The Poller reads sockets directly. A *tls.Conn is served through a
// socketpair and two copying goroutines (bridge_linux.go); for many
// connections, terminate TLS in front of the gateway (load balancer or
// proxy) so that idle connections stay free of goroutines.
//
// A typical server:
//
//	p, _ := ws.NewPoller(ws.PollerConfig{Logger: logger})
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
