package testinfra

import (
	"net"
	"testing"
)

// TCPPair returns the two ends of a loopback TCP connection, both closed
// at cleanup: a socket for code that needs a real one (a poller, a
// non-blocking write) without an HTTP server in front.
func TCPPair(tb testing.TB) (server, client net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { server.Close() })
	return server, client
}
