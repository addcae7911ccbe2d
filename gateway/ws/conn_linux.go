//go:build linux && !herald_portable_ws

package ws

import (
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Conn is a WebSocket connection served by a Poller. Its read side belongs
// to the poller; the layer above writes complete frames (see AppendFrame)
// with Write or WriteBuffers from one goroutine at a time, typically a
// writer goroutine that runs only while it has something to send.
type Conn struct {
	connCore
	rc syscall.RawConn

	// Owned by whoever owns the connection (see the states in conn.go):
	// the bytes Add was given, until a worker parsed them.
	initial []byte
	// partialSince is when a frame in progress was first seen incomplete
	// (Unix ns, 0: none), for the sweeper; lingerUntil is when a
	// lingering socket is closed.
	partialSince atomic.Int64
	lingerUntil  atomic.Int64
}

// event is c's epoll registration: its id in the 64 data bits.
func (c *Conn) event() unix.EpollEvent {
	return unix.EpollEvent{Events: connEvents, Fd: int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32))}
}

// terminate ends c: its socket lingers if its close frame was sent (see
// linger), or is closed at once. Only c's owner calls it, once.
func (c *Conn) terminate(err error) {
	c.closing.Store(true)
	// Release a partial frame's buffers now, not when the socket closes.
	c.parser = Parser{}
	c.initial = nil
	if c.partialSince.Swap(0) != 0 {
		c.p.partial.remove(c)
	}
	if !c.linger() {
		c.state.Store(stClosed)
		c.closeSocket()
	}
	c.p.open.Add(-1)
	c.h.OnClose(c, err)
}
