//go:build linux && !herald_portable_ws

package ws

import (
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// worker reads connections into its own buffer. Its re-arm callback is
// built once, so serving a connection does not allocate.
type worker struct {
	p   *Poller
	buf []byte

	// Results of read, argument and result of armFn.
	n     int
	err   error
	ev    unix.EpollEvent
	armFn func(fd uintptr)
}

func newWorker(p *Poller) *worker {
	w := &worker{p: p, buf: make([]byte, p.cfg.ReadBufferSize)}
	w.armFn = func(fd uintptr) {
		w.err = unix.EpollCtl(w.p.epfd, unix.EPOLL_CTL_MOD, int(fd), &w.ev)
	}
	return w
}

// read is one non-blocking read of c, which w owns (so its descriptor is
// open), into w.n and w.err.
func (w *worker) read(c *Conn) {
	for {
		w.n, w.err = unix.Read(int(c.fd), w.buf)
		if w.err != unix.EINTR {
			return
		}
	}
}

// serve handles one readiness event of c, which the caller made busy.
func (w *worker) serve(c *Conn) {
	if c.state.Load()&stLinger != 0 {
		w.drain(c)
		return
	}
	if !w.turn(c) {
		return
	}
	c.trackPartial()
	if !c.state.CompareAndSwap(stBusy, stIdle) {
		// Close was called meanwhile and left the ending to us.
		c.finishClose()
		return
	}
	// Re-arm after giving up ownership, or an event could arrive while
	// the connection is still busy and be lost. control keeps the fd open
	// (and its number from being reused) during the call; it does nothing
	// if Close closed the connection after our CompareAndSwap.
	w.ev = c.event()
	w.err = nil
	if !c.control(w.armFn) {
		return
	}
	if w.err != nil {
		_ = c.closeWith(CloseInternalError, "", fmt.Errorf("ws: re-arm connection: %w", w.err))
	}
}

// drain reads and discards what a lingering connection received, and
// closes its socket once the client closed its side, the read fails or
// the linger is over.
func (w *worker) drain(c *Conn) {
	for range maxReadsPerTurn {
		w.n, w.err = 0, nil
		w.read(c)
		if errors.Is(w.err, unix.EAGAIN) {
			break
		}
		if w.err != nil || w.n == 0 {
			c.endLinger()
			return
		}
	}
	if time.Now().UnixNano() >= c.lingerUntil.Load() {
		c.endLinger()
		return
	}
	c.state.Store(stLinger)
	// As in serve: re-armed after giving up ownership; the sweeper may
	// have closed it since, which makes Control fail.
	w.ev = c.event()
	w.err = nil
	if c.control(w.armFn) && w.err != nil && c.state.CompareAndSwap(stLinger, stClosed) {
		c.closeSocket()
	}
}

// turn reads what c has available and handles it. It returns false if c
// was terminated.
func (w *worker) turn(c *Conn) bool {
	if c.parser.fed() {
		// The bytes that came with the handshake (Add fed them).
		if err := c.consume(nil); err != nil {
			c.fail(err)
			return false
		}
	}
	if m := int(c.maxMessage.Load()); m != c.parser.max {
		c.parser.setMax(m)
	}
	for range maxReadsPerTurn {
		if c.closeRequested() {
			return true
		}
		w.n, w.err = 0, nil
		w.read(c)
		n, err := w.n, w.err
		if n > 0 {
			if err := c.consume(w.buf[:n]); err != nil {
				c.fail(err)
				return false
			}
		}
		switch {
		case errors.Is(err, unix.EAGAIN):
			return true
		case err != nil:
			c.fail(fmt.Errorf("ws: read: %w", err))
			return false
		case n == 0:
			c.fail(io.EOF)
			return false
		case n < len(w.buf):
			// Probably drained; if not, the re-armed event says so.
			return true
		}
	}
	return true
}
