//go:build linux && !herald_portable_ws

package ws

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"
)

// Lingering close: see PollerConfig.CloseLinger. A lingering connection is
// in the poller's lingering set, armed in epoll like an open one; workers
// drain it (worker.drain) and the sweeper closes it when its time is up.

// linger starts the lingering close of a connection whose close frame was
// written (see PollerConfig.CloseLinger): it shuts down the write side,
// which sends the client a FIN after the close frame, and re-arms the
// socket so that workers read and discard what still arrives. It reports
// false, leaving the socket to be closed at once, when lingering is off,
// the poller is stopping, the close frame was not written, or too many
// connections linger already. The caller owns c; ownership passes to the
// lingering state.
func (c *Conn) linger() bool {
	p := c.p
	if p.cfg.CloseLinger <= 0 || p.stopping.Load() || !c.closeWritten() {
		return false
	}
	c.lingerUntil.Store(time.Now().Add(p.cfg.CloseLinger).UnixNano())
	if !p.lingering.add(c, p.cfg.MaxLingering) {
		return false
	}
	// The caller owns c: its descriptor is open.
	if unix.Shutdown(int(c.fd), unix.SHUT_WR) != nil {
		p.lingering.remove(c)
		return false
	}
	c.state.Store(stLinger)
	// No longer ours: the sweeper may close it from here on.
	var sysErr error
	ev := c.event()
	armed := c.control(func(fd uintptr) { sysErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev) })
	if armed && sysErr != nil && c.state.CompareAndSwap(stLinger, stClosed) {
		c.closeSocket()
	}
	return true
}

// endLinger closes a lingering socket its worker owns.
func (c *Conn) endLinger() {
	c.state.Store(stClosed)
	c.closeSocket()
}

// closeSocket forgets c and closes its socket, which also removes it from
// the epoll set. Only the party that moved c to stClosed calls it.
func (c *Conn) closeSocket() {
	c.p.remove(c)
	c.p.lingering.remove(c)
	if cerr := c.releaseSocket(); cerr != nil && c.p.log.Enabled(context.Background(), slog.LevelDebug) {
		c.p.log.Debug("websocket close failed", "err", cerr)
	}
}
