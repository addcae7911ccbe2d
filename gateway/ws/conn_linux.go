package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Ownership states of a Conn. Exactly one party owns a connection that is
// not idle: the worker that made it busy, or the Close call that moved it
// from idle to closed. Only the owner reads, parses, calls the handler or
// ends the connection, which is what makes OnClose happen exactly once and
// never during OnMessage.
const (
	stIdle     uint32 = 0 // armed in epoll, no goroutine involved
	stBusy     uint32 = 1 // a worker owns it
	stCloseReq uint32 = 2 // with stBusy: Close was called, the worker ends it
	stClosed   uint32 = 4 // ended; OnClose was called or is being called
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

	// wmu keeps frames from interleaving on the wire.
	wmu sync.Mutex
	// werr is the first write error (guarded by wmu): a frame may have
	// been cut, so the stream is unusable after it.
	werr error
	// wclosed is set once the close frame was written (guarded by wmu).
	wclosed bool
	// pong is the payload of the last unanswered ping, written by
	// whichever goroutine next holds wmu.
	pong atomic.Pointer[[]byte]
}

// event is c's epoll registration: its id in the 64 data bits.
func (c *Conn) event() unix.EpollEvent {
	return unix.EpollEvent{Events: connEvents, Fd: int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32))}
}

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Write writes p, one or more complete frames, to the client with a
// deadline of WriteTimeout. It returns ErrClosed once Close was called.
// After an error the connection is unusable (a frame may have been cut):
// call Close. Concurrent writes are serialised, each written whole, and so
// are the poller's own pongs and close frame.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.unlockWriter()
	if err := c.beginWriteLocked(c.p.cfg.WriteTimeout); err != nil {
		return 0, err
	}
	n, err := c.nc.Write(p)
	if err != nil {
		c.werr = fmt.Errorf("ws: write: %w", err)
		return n, c.werr
	}
	return n, nil
}

// WriteBuffers writes bufs, complete frames, in one writev call when it
// can, with the same deadline and errors as Write. It consumes bufs: the
// slices it holds may be modified.
func (c *Conn) WriteBuffers(bufs net.Buffers) (int64, error) {
	c.wmu.Lock()
	defer c.unlockWriter()
	if err := c.beginWriteLocked(c.p.cfg.WriteTimeout); err != nil {
		return 0, err
	}
	n, err := bufs.WriteTo(c.nc)
	if err != nil {
		c.werr = fmt.Errorf("ws: write: %w", err)
		return n, c.werr
	}
	return n, nil
}

// beginWriteLocked refuses a write on a closing or broken connection and
// sets the write deadline. Close cuts the deadline of a write in progress
// short after setting closing; checking closing again after setting our
// deadline makes sure we never undo that.
func (c *Conn) beginWriteLocked(timeout time.Duration) error {
	if c.werr != nil {
		return c.werr
	}
	if c.closing.Load() {
		return ErrClosed
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		c.werr = fmt.Errorf("ws: set write deadline: %w", err)
		return c.werr
	}
	if c.closing.Load() {
		return ErrClosed
	}
	return nil
}

// unlockWriter releases wmu, first writing a pong queued while it was held.
// A pong queued just after the check is picked up by the loop, unless
// another goroutine took wmu, in which case its own unlockWriter does it.
func (c *Conn) unlockWriter() {
	for {
		if payload := c.pong.Swap(nil); payload != nil {
			c.writePongLocked(*payload)
		}
		c.wmu.Unlock()
		if c.pong.Load() == nil || !c.wmu.TryLock() {
			return
		}
	}
}

// writePongLocked answers a ping, unless the connection is closing.
func (c *Conn) writePongLocked(payload []byte) {
	if c.beginWriteLocked(c.p.cfg.ControlWriteTimeout) != nil {
		return
	}
	var buf [MaxControlPayload + 2]byte
	if _, err := c.nc.Write(AppendFrame(buf[:0], OpPong, true, payload)); err != nil {
		c.werr = fmt.Errorf("ws: write pong: %w", err)
	}
}

// queuePong answers a ping. Only the last ping waiting is answered, as
// RFC 6455 section 5.5.3 allows. If the layer above is writing, its Write
// sends the pong when it finishes, so a worker never waits for a slow
// client's writer.
func (c *Conn) queuePong(payload []byte) {
	b := bytes.Clone(payload)
	c.pong.Store(&b)
	if c.wmu.TryLock() {
		c.unlockWriter()
	}
}

// Close sends a close frame with code and reason (code 0 sends one without
// a status; reasons are cut to MaxCloseReason bytes), closes the socket and
// calls OnClose with ErrClosed, once. Writes fail with ErrClosed from the
// start of the call and no message is delivered after it. A write in
// progress gets ControlWriteTimeout to finish before its deadline cuts it
// short, and the close frame as long to be written; it is skipped if the
// stream is broken.
//
// If a worker is handling the connection (Close may be called from
// OnMessage), the worker sends the close frame and ends the connection once
// the current OnMessage returns, and Close returns at once. Otherwise Close
// does it and OnClose runs in the calling goroutine before Close returns:
// do not hold a lock that OnClose takes. Close returns ErrClosed, and does
// nothing, if the connection was already closing or closed.
func (c *Conn) Close(code uint16, reason string) error {
	return c.closeWith(code, reason, ErrClosed)
}

// closeWith ends the connection with a close frame, or asks the worker that
// owns it to. It returns ErrClosed if the connection was already closing.
func (c *Conn) closeWith(code uint16, reason string, cause error) error {
	if !c.closing.CompareAndSwap(false, true) {
		return ErrClosed
	}
	// Bound the write in progress, if any, so the close frame can follow.
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.p.cfg.ControlWriteTimeout))
	// Published to the worker by the CompareAndSwap that sets stCloseReq.
	c.closeCode, c.closeReason, c.closeErr = code, reason, cause
	for {
		switch s := c.state.Load(); s {
		case stIdle:
			if c.state.CompareAndSwap(stIdle, stClosed) {
				c.finishClose()
				return nil
			}
		case stBusy:
			if c.state.CompareAndSwap(stBusy, stBusy|stCloseReq) {
				return nil
			}
		default:
			// A worker ended it after we set closing (a hang-up or a
			// protocol error found meanwhile).
			return nil
		}
	}
}

// finishClose sends the close frame Close asked for and ends the
// connection. The caller owns it.
func (c *Conn) finishClose() {
	c.writeClose(c.closeCode, c.closeReason)
	c.terminate(c.closeErr)
}

// writeClose writes the close frame. The caller set closing, so no new
// write starts; the one in progress, if any, was given ControlWriteTimeout.
func (c *Conn) writeClose(code uint16, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pong.Store(nil)
	if c.werr != nil || c.wclosed {
		return
	}
	c.wclosed = true
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.p.cfg.ControlWriteTimeout)); err != nil {
		c.werr = err
		return
	}
	var buf [MaxControlPayload + 2]byte
	if _, err := c.nc.Write(AppendClose(buf[:0], code, reason)); err != nil {
		c.werr = fmt.Errorf("ws: write close: %w", err)
	}
}

// closeRequested reports whether Close asked the owning worker to end c.
func (c *Conn) closeRequested() bool { return c.state.Load()&stCloseReq != 0 }

// consume parses b and acts on every complete message. It returns the
// error that ends the connection: a *ProtocolError, or a *CloseError when
// the client closed. It stops early, returning nil, once Close was called.
func (c *Conn) consume(b []byte) error {
	c.parser.Feed(b)
	for {
		if c.closeRequested() {
			return nil
		}
		m, ok, err := c.parser.Next()
		if err != nil || !ok {
			return err
		}
		switch m.Op {
		case OpPing:
			c.queuePong(m.Payload)
		case OpPong:
			// Nothing to do: we never ping at the WebSocket level.
		case OpClose:
			code, reason := m.CloseStatus()
			return &CloseError{Code: code, Reason: reason}
		default:
			c.h.OnMessage(c, m.Op, m.Payload)
		}
	}
}

// fail ends a connection its worker owns: it answers a client's close frame
// with the same code, reports a protocol error with its code, or just
// closes after a hang-up or read error.
func (c *Conn) fail(err error) {
	var (
		pe   *ProtocolError
		ce   *CloseError
		code uint16
		why  string
		send bool
	)
	switch {
	case errors.As(err, &pe):
		c.p.protocolErrors.Add(1)
		code, why, send = pe.Code, pe.Reason, true
	case errors.As(err, &ce):
		send = true
		if ce.Code != CloseNoStatus {
			code = ce.Code
		}
	}
	if c.p.log.Enabled(context.Background(), slog.LevelDebug) {
		c.p.log.Debug("websocket connection ended", "remote", c.nc.RemoteAddr().String(), "err", err)
	}
	if c.closing.CompareAndSwap(false, true) && send {
		c.writeClose(code, why)
	}
	c.terminate(err)
}

// terminate ends c. Only c's owner calls it, once.
func (c *Conn) terminate(err error) {
	c.state.Store(stClosed)
	c.closing.Store(true)
	c.p.remove(c)
	// Closing the socket also removes it from the epoll set.
	if cerr := c.nc.Close(); cerr != nil && c.p.log.Enabled(context.Background(), slog.LevelDebug) {
		c.p.log.Debug("websocket close failed", "err", cerr)
	}
	c.parser = Parser{}
	c.initial = nil
	c.p.open.Add(-1)
	c.h.OnClose(c, err)
}
