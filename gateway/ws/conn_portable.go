//go:build !linux || herald_portable_ws

package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// Conn is a WebSocket connection served by a Poller. Its read side belongs
// to the poller; the layer above writes complete frames (see AppendFrame)
// with Write or WriteBuffers from one goroutine at a time, typically a
// writer goroutine that runs only while it has something to send.
type Conn struct {
	connCore
	nc net.Conn
	// wdeadline is the write deadline last set, Unix ns (0: none).
	wdeadline atomic.Int64
	// ended is closed once the connection ended, its state then stClosed
	// or stLinger: a reader that lost the connection to Close waits for it
	// to learn whether to drain a lingering socket.
	ended chan struct{}
	// lingered is set when the socket lingers (counted in
	// Poller.lingering until closeSocket).
	lingered bool

	// Owned by the reader: the read deadline last set, and when the frame
	// in progress was first seen incomplete.
	readDeadline time.Time
	partialSince time.Time
}

// read is c's reader goroutine: it reads, owning c while it handles what
// it read, until c ends, then drains c's socket while it lingers.
func (c *Conn) read(initial []byte) {
	p := c.p
	select {
	case <-p.started:
	case <-p.stop:
		return // shutdown closes c
	}
	buf := make([]byte, p.cfg.ReadBufferSize)
	pending := initial
	for {
		var rerr error
		if len(pending) == 0 {
			var n int
			n, rerr = c.nc.Read(buf)
			pending = buf[:n]
		}
		if !c.state.CompareAndSwap(stIdle, stBusy) {
			break // Close ended c, or is ending it
		}
		if !c.turn(pending, rerr) {
			break
		}
		pending = nil
		if !c.state.CompareAndSwap(stBusy, stIdle) {
			// Close was called meanwhile and left the ending to us.
			c.finishClose()
			break
		}
	}
	<-c.ended
	if c.state.Load() == stLinger {
		c.drain(buf)
	}
}

// turn handles b, what a read returned with rerr. It returns false if c
// was terminated. The caller owns c.
func (c *Conn) turn(b []byte, rerr error) bool {
	if m := int(c.maxMessage.Load()); m != c.parser.max {
		c.parser.setMax(m)
	}
	if len(b) > 0 {
		if err := c.consume(b); err != nil {
			c.fail(err)
			return false
		}
	}
	if c.closeRequested() {
		return true
	}
	switch {
	case rerr == nil:
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		if c.parser.inProgress() {
			c.expireFrame()
			return false
		}
		// The frame completed in the read the deadline ended: nothing is
		// late.
	case errors.Is(rerr, io.EOF):
		c.fail(io.EOF)
		return false
	default:
		c.fail(fmt.Errorf("ws: read: %w", rerr))
		return false
	}
	if err := c.trackPartial(); err != nil {
		c.fail(err)
		return false
	}
	return true
}

// trackPartial sets the read deadline of a frame in progress (see
// PollerConfig.FrameReadTimeout): it runs from when a frame was first seen
// incomplete until the parser is between frames again, and restarts when a
// frame completed and the next one is incomplete. Between frames there is
// none.
func (c *Conn) trackPartial() error {
	timeout := c.p.cfg.FrameReadTimeout
	if timeout <= 0 {
		return nil
	}
	var deadline time.Time
	switch {
	case !c.parser.inProgress():
		c.partialSince = time.Time{}
	case c.partialSince.IsZero() || c.units != c.parser.units:
		c.units = c.parser.units
		c.partialSince = time.Now()
		fallthrough
	default:
		deadline = c.partialSince.Add(timeout)
	}
	if deadline.Equal(c.readDeadline) {
		return nil
	}
	c.readDeadline = deadline
	if err := c.nc.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("ws: set read deadline: %w", err)
	}
	return nil
}

// expireFrame closes c, whose frame is late, with ClosePolicyViolation.
// The caller owns c.
func (c *Conn) expireFrame() {
	c.p.frameTimeouts.Add(1)
	if c.closing.CompareAndSwap(false, true) {
		// Bound the write in progress, if any, so the close frame can follow.
		_ = c.setWriteDeadline(time.Now().Add(c.p.cfg.ControlWriteTimeout))
		c.writeClose(errFrameTimeout.Code, errFrameTimeout.Reason)
	}
	c.terminate(errFrameTimeout)
}

// terminate ends c: its socket lingers if its close frame was sent (see
// linger), or is closed at once. Only c's owner calls it, once.
func (c *Conn) terminate(err error) {
	c.closing.Store(true)
	// Release a partial frame's buffers now, not when the socket closes.
	c.parser = Parser{}
	if c.linger() {
		c.state.Store(stLinger)
	} else {
		c.state.Store(stClosed)
		c.closeSocket()
	}
	close(c.ended)
	c.p.open.Add(-1)
	c.h.OnClose(c, err)
}

// linger starts the lingering close of a connection whose close frame was
// written (see PollerConfig.CloseLinger): it shuts down the write side,
// which sends the client a FIN (over TLS, a close_notify) after the close
// frame, and bounds the reads of the reader, which drains the socket. It
// reports false, leaving the socket to be closed at once, when lingering
// is off, the poller is stopping, the close frame was not written, the
// connection cannot shut down its write side only, or too many
// connections linger already.
func (c *Conn) linger() bool {
	p := c.p
	if p.cfg.CloseLinger <= 0 || p.stopping.Load() || !c.closeWritten() {
		return false
	}
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok {
		return false
	}
	if n := p.lingering.Add(1); n > int64(p.cfg.MaxLingering) {
		p.lingering.Add(-1)
		return false
	}
	if c.nc.SetReadDeadline(time.Now().Add(p.cfg.CloseLinger)) != nil || cw.CloseWrite() != nil {
		p.lingering.Add(-1)
		return false
	}
	c.lingered = true
	return true
}

// drain reads and discards what a lingering connection receives until the
// client closes its side, the read fails or the linger is over (the read
// deadline linger set), then closes the socket unless shutdown did.
func (c *Conn) drain(buf []byte) {
	for {
		if _, err := c.nc.Read(buf); err != nil {
			break
		}
	}
	if c.state.CompareAndSwap(stLinger, stClosed) {
		c.closeSocket()
	}
}

// closeSocket forgets c and closes its socket. Only the party that moved c
// to stClosed calls it.
func (c *Conn) closeSocket() {
	c.p.remove(c)
	if c.lingered {
		c.p.lingering.Add(-1)
	}
	if cerr := c.nc.Close(); cerr != nil && c.p.log.Enabled(context.Background(), slog.LevelDebug) {
		c.p.log.Debug("websocket close failed", "err", cerr)
	}
}

// writeNonblock cannot write without waiting on this transport: WriteNow
// leaves every write to Write.
func (c *Conn) writeNonblock([]byte) (int, error) { return 0, errWouldBlock }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// sockWrite writes p whole, waiting for room until the write deadline.
func (c *Conn) sockWrite(p []byte) (int, error) { return c.nc.Write(p) }

// sockWriteBuffers writes bufs whole like sockWrite, consuming them.
func (c *Conn) sockWriteBuffers(bufs *net.Buffers) (int64, error) { return bufs.WriteTo(c.nc) }

// setWriteDeadline bounds the write in progress and the later ones; it
// may be called while a write waits.
func (c *Conn) setWriteDeadline(t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	c.wdeadline.Store(d)
	return c.nc.SetWriteDeadline(t)
}

// writeDeadline is the write deadline last set, Unix ns (0: none).
func (c *Conn) writeDeadline() int64 { return c.wdeadline.Load() }
