package ws

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// WriteNow writes p, one or more complete frames, only if it can without
// waiting: no other write holds the connection and the socket's buffer
// takes at least some of p. It never blocks and sets no deadline, so a
// fan-out can write each subscriber's copy itself instead of waking a
// writer goroutine per delivery (the goroutine and the deadline were a
// fifth of a delivery's CPU: docs/performance.md).
//
// written false with a nil error means nothing was written: the
// connection is busy, its socket is full, or the transport cannot write
// without waiting; write p with Write instead. written true means p is on
// the wire; flush true means something is still waiting for a Write (nil
// will do): the rest of p the socket had no room for, which goes before
// any later frame, or a pong. An error is Write's: the connection is
// unusable.
func (c *Conn) WriteNow(p []byte) (written, flush bool, err error) {
	if !c.wmu.TryLock() {
		return false, false, nil
	}
	written, err = c.writeNowLocked(p)
	// A pong queued while we held wmu found it taken and left the answer
	// to us; Write sends it, in the caller's writer, never here.
	flush = c.tail != nil || c.pong.Load() != nil
	c.wmu.Unlock()
	return written, flush, err
}

// writeNowLocked is WriteNow's write; c.wmu is held.
func (c *Conn) writeNowLocked(p []byte) (bool, error) {
	if c.tail != nil {
		return false, nil // only Write sends what is already waiting
	}
	if err := c.refuseWriteLocked(); err != nil {
		return false, err
	}
	n, err := c.writeNonblock(p)
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.interrupted.Load() && !c.closing.Load() {
		// The deadline an earlier Write set has passed: it applied to that
		// write only. Clear it so writes that cannot wait are not refused.
		if err = c.setWriteDeadline(time.Time{}); err == nil {
			n, err = c.writeNonblock(p)
		}
	}
	switch {
	case err != nil && c.cutShort(err):
		return false, ErrInterrupted // nothing was written
	case errors.Is(err, errWouldBlock):
		return false, nil
	case err != nil:
		c.werr = fmt.Errorf("ws: write: %w", err)
		return false, c.werr
	}
	if n < len(p) {
		// The rest of the frame in progress, and any whole frames after
		// it: the next write sends them first.
		c.keepRestLocked(p[n:])
	}
	return true, nil
}
