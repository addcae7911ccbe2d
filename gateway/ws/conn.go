package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The write side of a Conn, its closing and the handling of parsed
// messages are the same on every transport; conn_linux.go (epoll) and
// conn_portable.go (a goroutine per connection) define the Conn itself and
// how it ends.

// Ownership states of a Conn. Exactly one party owns a connection that is
// not idle: its reader (a poller worker, or the connection's own goroutine
// on the portable transport) that made it busy, or the Close call that
// moved it from idle to closed. Only the owner reads, parses, calls the
// handler or ends the connection, which is what makes OnClose happen
// exactly once and never during OnMessage.
const (
	stIdle     uint32 = 0 // waiting for input: armed in epoll, or its reader blocked in a read
	stBusy     uint32 = 1 // its reader owns it
	stCloseReq uint32 = 2 // with stBusy: Close was called, the reader ends it
	stClosed   uint32 = 4 // ended; OnClose was called or is being called
	// stLinger: ended, OnClose called, but the socket lingers, its input
	// read and discarded; with stBusy a worker is draining it.
	stLinger uint32 = 8
)

// connCore is the part of a Conn that every transport has: who the
// connection is, who owns it (see the states above), how Close asked it
// to end, its parser, and its write side.
type connCore struct {
	p  *Poller
	h  Handler
	id uint64

	state atomic.Uint32
	// closing is set once a close frame is on its way or the connection
	// failed: writes are refused from then on.
	closing atomic.Bool
	// closeReq is what Close asked for, for the reader that ends the
	// connection on its behalf; written before stCloseReq is set.
	closeReq *closeRequest

	// Owned by whoever owns the connection (see the states above).
	parser Parser
	// units is the parser's count of completed frames when the frame in
	// progress was first seen incomplete (see the transport's
	// partialSince).
	units uint32
	// wclosed is set once the close frame was written (guarded by wmu).
	wclosed bool

	// maxMessage is the message size limit, applied by the reader before
	// parsing what it read (SetMaxMessageSize changes it).
	maxMessage atomic.Int64
	// interrupted is set by InterruptWrite: writes fail with
	// ErrInterrupted from then on.
	interrupted atomic.Bool

	// wmu keeps frames from interleaving on the wire.
	wmu sync.Mutex
	// werr is the first write error (guarded by wmu): a frame may have
	// been cut, so the stream is unusable after it.
	werr error
	// tail is the unsent rest of a frame already begun on the wire: one
	// that WriteNow found the socket too full to take whole, which the
	// next write sends first, or one whose write Close or InterruptWrite
	// cut short, which goes before the close frame. Either way the
	// client's stream stays well-formed (guarded by wmu).
	tail []byte
	// pong is the payload of the last unanswered ping, written by
	// whichever goroutine next holds wmu.
	pong atomic.Pointer[[]byte]
}

// closeRequest is the close frame Close asked for and the error OnClose
// gets.
type closeRequest struct {
	code   uint16
	reason string
	err    error
}

// aLongTimeAgo is a deadline in the past: setting it makes a blocked
// write return at once.
var aLongTimeAgo = time.Unix(1, 0)

// Write writes p, one or more complete frames, to the client with a
// deadline of WriteTimeout. It returns ErrClosed once Close was called.
// After an error the connection is unusable (a frame may have been cut):
// call Close. Concurrent writes are serialised, each written whole, and so
// are the poller's own pongs and close frame. The rest of a frame WriteNow
// began goes first; Write(nil) sends just that, and a pong waiting.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.unlockWriter()
	if err := c.beginWriteLocked(c.p.cfg.WriteTimeout); err != nil {
		return 0, err
	}
	if err := c.writeTailLocked(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.sockWrite(p)
	if err != nil {
		if c.cutShort(err) {
			return n, c.keepTailLocked(p[n:frameEnd(p, n)])
		}
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
	if err := c.writeTailLocked(); err != nil {
		return 0, err
	}
	n, err := c.sockWriteBuffers(&bufs)
	if err != nil {
		if c.cutShort(err) {
			// WriteTo consumed what it wrote: bufs[0] is the rest of the
			// element in progress, which ends at a frame boundary.
			var rest []byte
			if n > 0 && len(bufs) > 0 {
				rest = bufs[0]
			}
			return n, c.keepTailLocked(rest)
		}
		c.werr = fmt.Errorf("ws: write: %w", err)
		return n, c.werr
	}
	return n, nil
}

// cutShort reports whether a write failed because Close or InterruptWrite
// moved its deadline: the stream is still well-formed up to the frame in
// progress.
func (c *Conn) cutShort(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) && (c.interrupted.Load() || c.closing.Load())
}

// keepTailLocked keeps the unsent rest of the frame a cut-short write was
// in, to be sent before the close frame, and returns ErrInterrupted.
func (c *Conn) keepTailLocked(rest []byte) error {
	c.keepRestLocked(rest)
	return ErrInterrupted
}

// keepRestLocked keeps a copy of rest, the unsent end of a frame, in
// tail, with room for the close frame that may follow it: rest may be
// part of a frame shared by a fan-out, which nobody may write to.
func (c *Conn) keepRestLocked(rest []byte) {
	if len(rest) > 0 {
		c.tail = append(make([]byte, 0, len(rest)+MaxControlPayload+2), rest...)
	}
}

// InterruptWrite makes the write in progress, if any, return at once with
// ErrInterrupted, and every later write too; the bytes of a frame it cut
// short are kept and sent by Close before the close frame. Use it to drop
// a slow client's backlog and close it (call Close next, typically from
// the writing goroutine) without waiting for the backlog to drain; Close
// then waits up to WriteTimeout for the socket to take the close frame.
// It does not block.
func (c *Conn) InterruptWrite() {
	c.interrupted.Store(true)
	_ = c.setWriteDeadline(aLongTimeAgo)
}

// SetMaxMessageSize changes the connection's message size limit for the
// frames whose header arrives from now on; n <= 0 means
// DefaultMaxMessageSize.
func (c *Conn) SetMaxMessageSize(n int) {
	c.maxMessage.Store(int64(n))
}

// beginWriteLocked refuses a write on a closing or broken connection and
// sets the write deadline. Close cuts the deadline of a write in progress
// short after setting closing; checking closing again after setting our
// deadline makes sure we never undo that.
func (c *Conn) beginWriteLocked(timeout time.Duration) error {
	if err := c.refuseWriteLocked(); err != nil {
		return err
	}
	if err := c.setWriteDeadlineLocked(timeout); err != nil {
		c.werr = fmt.Errorf("ws: set write deadline: %w", err)
		return c.werr
	}
	return c.refuseWriteLocked()
}

// refuseWriteLocked returns why no write may start: the stream is broken,
// or Close or InterruptWrite was called.
func (c *Conn) refuseWriteLocked() error {
	if c.werr != nil {
		return c.werr
	}
	if c.closing.Load() {
		return ErrClosed
	}
	if c.interrupted.Load() {
		return ErrInterrupted
	}
	return nil
}

// writeTailLocked sends the rest of a frame WriteNow began, if any, before
// anything else is written. The caller has begun a write (the deadline is
// set and no close is under way).
func (c *Conn) writeTailLocked() error {
	if c.tail == nil {
		return nil
	}
	rest := c.tail
	c.tail = nil
	n, err := c.sockWrite(rest)
	if err == nil {
		return nil
	}
	if c.cutShort(err) {
		return c.keepTailLocked(rest[n:])
	}
	c.werr = fmt.Errorf("ws: write: %w", err)
	return c.werr
}

// deadlineReuse is the share of a write timeout (one in deadlineReuse) a
// write deadline may have run down and still be reused.
const deadlineReuse = 10

// setWriteDeadlineLocked gives the write about to start timeout, or
// keeps the deadline set for an earlier write while at least
// (1 - 1/deadlineReuse) of timeout is left and no more than timeout: a
// fan-out writes once per delivery, and moving the runtime's timer on
// every write cost about 5 % of the CPU of a delivery. Close,
// InterruptWrite and the frame sweeper move the deadline themselves, but
// only after setting closing or interrupted, which refuse every later
// write, so a reused deadline never undoes theirs.
func (c *Conn) setWriteDeadlineLocked(timeout time.Duration) error {
	now := time.Now()
	left := time.Duration(c.writeDeadline() - now.UnixNano())
	if left <= timeout && left >= timeout-timeout/deadlineReuse {
		return nil
	}
	deadline := now.Add(timeout)
	return c.setWriteDeadline(deadline)
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
	if c.beginWriteLocked(c.p.cfg.ControlWriteTimeout) != nil || c.writeTailLocked() != nil {
		return
	}
	var buf [MaxControlPayload + 2]byte
	if _, err := c.sockWrite(AppendFrame(buf[:0], OpPong, true, payload)); err != nil {
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
	_ = c.setWriteDeadline(time.Now().Add(c.p.cfg.ControlWriteTimeout))
	// Published to the worker by the CompareAndSwap that sets stCloseReq.
	c.closeReq = &closeRequest{code: code, reason: reason, err: cause}
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
	r := c.closeReq
	c.writeClose(r.code, r.reason)
	c.terminate(r.err)
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
	// A client whose backlog was dropped (InterruptWrite) is behind by
	// definition: its close frame, the one thing left to tell it to back
	// off, gets as long as any write would have.
	timeout := c.p.cfg.ControlWriteTimeout
	if c.interrupted.Load() {
		timeout = c.p.cfg.WriteTimeout
	}
	if err := c.setWriteDeadline(time.Now().Add(timeout)); err != nil {
		c.werr = err
		return
	}
	var buf [MaxControlPayload + 2]byte
	frame := AppendClose(buf[:0], code, reason)
	if c.tail != nil {
		// The rest of a frame cut short goes first, in the same write.
		frame = append(c.tail, frame...)
		c.tail = nil
	}
	if _, err := c.sockWrite(frame); err != nil {
		c.werr = fmt.Errorf("ws: write close: %w", err)
	}
}

// closeWritten reports whether the close frame was written whole.
func (c *Conn) closeWritten() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.wclosed && c.werr == nil
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
		c.p.log.Debug("websocket connection ended", "remote", c.RemoteAddr(), "err", err)
	}
	if c.closeRequested() {
		// Close asked for its close frame while this worker held the
		// connection, before the worker found its own reason to end it:
		// the frame Close asked for goes, or the client would get none.
		code, why, send = c.closeReq.code, c.closeReq.reason, true
	}
	// writeClose writes one close frame at most: when closing was set by
	// a Close call not yet registered as a request, the frame sent is
	// ours, and Close finds the connection ended.
	c.closing.Store(true)
	if send {
		c.writeClose(code, why)
	}
	c.terminate(err)
}
