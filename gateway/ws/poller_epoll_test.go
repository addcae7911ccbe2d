//go:build linux && !herald_portable_ws

package ws_test

import (
	"errors"
	"net"
	"testing"

	"github.com/heraldhq/herald/gateway/ws"
)

// TestAddUnsupported: the epoll poller needs a file descriptor (or a
// *tls.Conn, which it bridges); the portable transport takes any net.Conn.
func TestAddUnsupported(t *testing.T) {
	p, err := ws.NewPoller(ws.PollerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, b := net.Pipe()
	defer b.Close()
	if _, err := p.Add(a, newRecorder(), nil); !errors.Is(err, ws.ErrUnsupportedConn) {
		t.Fatalf("Add(net.Pipe) = %v", err)
	}
}
