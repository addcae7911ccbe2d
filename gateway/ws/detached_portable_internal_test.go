//go:build !linux || herald_portable_ws

package ws

import (
	"net"
	"testing"
)

// newDetachedConn returns a Conn over one end of a pipe, for tests of its
// write bookkeeping.
func newDetachedConn(t *testing.T) *Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &Conn{nc: a}
}
