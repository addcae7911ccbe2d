//go:build linux && !herald_portable_ws

package ws

import "testing"

// newDetachedConn returns a Conn with no socket, for tests of its write
// bookkeeping: setting its deadline touches nothing else.
func newDetachedConn(*testing.T) *Conn { return &Conn{fd: -1} }
