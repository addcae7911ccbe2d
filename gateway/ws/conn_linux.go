//go:build linux && !herald_portable_ws

package ws

import (
	"net"
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
	p  *Poller
	nc net.Conn
	rc syscall.RawConn
	h  Handler
	id uint64

	state atomic.Uint32
	// closing is set once a close frame is on its way or the connection
	// failed: writes are refused from then on.
	closing atomic.Bool
	// What Close asked for, for the worker that ends the connection on its
	// behalf; written before stCloseReq is set.
	closeCode   uint16
	closeReason string
	closeErr    error

	// Owned by whoever owns the connection (see the states above).
	parser  Parser
	initial []byte
	// units is the parser's count of completed frames when partialSince
	// was last set.
	units uint32

	// maxMessage is the message size limit, applied by the worker before
	// each read (SetMaxMessageSize changes it).
	maxMessage atomic.Int64
	// partialSince is when a frame in progress was first seen incomplete
	// (Unix ns, 0: none), for the sweeper; lingerUntil is when a
	// lingering socket is closed.
	partialSince atomic.Int64
	lingerUntil  atomic.Int64
	// interrupted is set by InterruptWrite: writes fail with
	// ErrInterrupted from then on.
	interrupted atomic.Bool

	// wmu keeps frames from interleaving on the wire.
	wmu sync.Mutex
	// werr is the first write error (guarded by wmu): a frame may have
	// been cut, so the stream is unusable after it.
	werr error
	// wclosed is set once the close frame was written (guarded by wmu).
	wclosed bool
	// tail is the rest of a frame whose write was cut short by Close or
	// InterruptWrite, sent before the close frame so that the client's
	// stream stays well-formed (guarded by wmu).
	tail []byte
	// pong is the payload of the last unanswered ping, written by
	// whichever goroutine next holds wmu.
	pong atomic.Pointer[[]byte]
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
