//go:build linux && !herald_portable_ws

package ws

import (
	"sync"
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

// rawWrite is one non-blocking write(2) through a connection's RawConn.
// Its callback is bound once per rawWrite, and rawWrites are pooled, so a
// write allocates nothing (a closure over the caller's variables would
// escape, once per delivery).
type rawWrite struct {
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func (w *rawWrite) write(fd uintptr) bool {
	for {
		w.n, w.err = unix.Write(int(fd), w.p)
		if w.err != unix.EINTR {
			// Done, written or not: returning true keeps RawConn.Write
			// from waiting for the socket to become writable.
			return true
		}
	}
}

var rawWrites = sync.Pool{New: func() any {
	w := new(rawWrite)
	w.fn = w.write
	return w
}}

// writeNonblock writes as much of p as the socket takes now. It returns
// errWouldBlock when the socket took nothing. RawConn.Write holds a
// reference to the descriptor for the call, so the write can never reach
// a socket that reused the number after c's was closed.
func (c *Conn) writeNonblock(p []byte) (int, error) {
	w := rawWrites.Get().(*rawWrite)
	w.p = p
	err := c.rc.Write(w.fn)
	n, werr := w.n, w.err
	w.p, w.n, w.err = nil, 0, nil
	rawWrites.Put(w)
	switch {
	case err != nil:
		return 0, err
	case werr == unix.EAGAIN:
		return 0, errWouldBlock
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
