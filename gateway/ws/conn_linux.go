//go:build linux && !herald_portable_ws

package ws

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Conn is a WebSocket connection served by a Poller. Its read side belongs
// to the poller; the layer above writes complete frames (see AppendFrame)
// with Write or WriteBuffers from one goroutine at a time, typically a
// writer goroutine that runs only while it has something to send.
type Conn struct {
	connCore
	// fd is the socket, -1 once closed (see socket_linux.go for who may
	// use it); fdmu orders control calls against closing it. sockClosed
	// is set once the socket is being closed.
	fd         int32
	sockClosed atomic.Bool
	fdmu       sync.Mutex
	// deadline is the write deadline, Unix ns (0: none), which any
	// goroutine may move; waiter is the write waiting for room, if any.
	deadline atomic.Int64
	waiter   atomic.Pointer[writeWaiter]

	// partialSince is when a frame in progress was first seen incomplete
	// (Unix ns, 0: none), for the sweeper; lingerUntil is when a
	// lingering socket is closed.
	partialSince atomic.Int64
	lingerUntil  atomic.Int64
}

// fed reports whether bytes given to Feed are still unparsed: those Add
// fed it, which the first worker to serve c parses.
func (p *Parser) fed() bool { return len(p.src) > 0 }

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
