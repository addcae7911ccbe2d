//go:build linux && !herald_portable_ws

package ws

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Conn owns its socket's descriptor outright: Add takes a duplicate of
// the accepted connection's descriptor and closes the net.Conn. An idle
// connection then costs no net.TCPConn, netFD or addresses on the heap and
// no runtime poll descriptor off it (together about 1 KiB of resident
// memory per connection: docs/performance.md, "Memory per connection").
// The poller's epoll instance reports reads; a write that finds the
// socket full waits on a second one (dispatchWritable), so no connection
// is ever registered with Go's own poller.
//
// Who may use fd: the connection's owner reads it (see the states in
// conn.go), writers write it holding wmu, and anyone else (re-arming after
// giving up ownership, the sweeper) through control, under fdmu.
// releaseSocket holds both to close it, so a number is never used after the
// kernel may have given it to another socket.

// maxIovecs bounds the buffers one writev(2) takes, as the kernel does
// (IOV_MAX).
const maxIovecs = 1024

// writeWaiter is what a write that found its socket full waits on: the
// write epoll's dispatcher, a deadline moved or the socket closing
// signal ready. Waiters are pooled, taken only while a write waits.
type writeWaiter struct {
	ready chan struct{}
	timer *time.Timer
}

var writeWaiters = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &writeWaiter{ready: make(chan struct{}, 1), timer: t}
}}

// iovecs are writev's argument arrays, pooled: writers are any goroutine,
// and an array this size on a writer's stack would make it grow.
var iovecs = sync.Pool{New: func() any { return new([maxIovecs]unix.Iovec) }}

// takeSocket returns a duplicate of nc's descriptor and closes nc, which
// removes it from Go's poller. The duplicate is non-blocking, as nc's was
// (the flag belongs to the open file both share).
func takeSocket(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, ErrUnsupportedConn
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("ws: raw connection: %w", err)
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, fmt.Errorf("ws: raw connection: %w", err)
	}
	if dupErr != nil {
		return -1, fmt.Errorf("ws: take socket: %w", dupErr)
	}
	// Only our duplicate is left: closing nc does not close the socket.
	_ = nc.Close()
	return fd, nil
}

// RemoteAddr returns the client's address, or nil once the kernel no
// longer knows it (the socket was closed, or the client reset it). It
// asks the kernel: a Conn does not keep it, which would cost every
// connection 32 bytes for a figure read only in debug logs.
func (c *Conn) RemoteAddr() net.Addr {
	if a, ok := c.p.bridged.Load(c.id); ok {
		return a.(net.Addr)
	}
	var sa unix.Sockaddr
	var err error
	if !c.control(func(fd uintptr) { sa, err = unix.Getpeername(int(fd)) }) || err != nil {
		return nil
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)))
	case *unix.SockaddrInet6:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)))
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
}

// control calls f with c's descriptor unless the socket was closed, and
// reports whether it did. It is for those who do not own c.
func (c *Conn) control(f func(fd uintptr)) bool {
	c.fdmu.Lock()
	defer c.fdmu.Unlock()
	if c.fd < 0 {
		return false
	}
	f(uintptr(c.fd))
	return true
}

// releaseSocket closes c's descriptor once no writer and no control call
// uses it. A write waiting for room is woken and gives up first.
func (c *Conn) releaseSocket() error {
	c.sockClosed.Store(true)
	c.pokeWriter()
	c.wmu.Lock()
	c.fdmu.Lock()
	fd := c.fd
	c.fd = -1
	c.fdmu.Unlock()
	c.wmu.Unlock()
	if fd < 0 {
		return nil
	}
	return unix.Close(int(fd))
}

// writeDeadline is the write deadline last set, Unix ns (0: none).
func (c *Conn) writeDeadline() int64 { return c.deadline.Load() }

// setWriteDeadline bounds the write in progress and the later ones; it
// may be called while a write waits, which then rechecks it.
func (c *Conn) setWriteDeadline(t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = max(t.UnixNano(), 1)
	}
	c.deadline.Store(d)
	c.pokeWriter()
	return nil
}

// pokeWriter wakes the write waiting for room, if any, to look again.
func (c *Conn) pokeWriter() {
	if w := c.waiter.Load(); w != nil {
		select {
		case w.ready <- struct{}{}:
		default:
		}
	}
}

// writeErr is what a write returns when it cannot go on: the socket was
// closed, or the deadline passed (os.ErrDeadlineExceeded, as net.Conn
// says it, which Write's callers tell apart from a broken stream).
func (c *Conn) writeErr() error {
	if c.sockClosed.Load() {
		return net.ErrClosed
	}
	if d := c.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// sockWrite writes p whole, waiting for room until the write deadline.
// The caller holds wmu.
func (c *Conn) sockWrite(p []byte) (int, error) {
	n := 0
	for {
		if err := c.writeErr(); err != nil {
			return n, err
		}
		m, err := unix.Write(int(c.fd), p[n:])
		if m > 0 {
			n += m
		}
		switch {
		case n == len(p):
			return n, nil
		case err == nil || err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := c.waitWritable(); err != nil {
				return n, err
			}
		default:
			return n, os.NewSyscallError("write", err)
		}
	}
}

// sockWriteBuffers writes bufs whole like sockWrite, with one writev(2)
// per maxIovecs buffers, consuming them. The caller holds wmu.
func (c *Conn) sockWriteBuffers(bufs *net.Buffers) (int64, error) {
	iov := iovecs.Get().(*[maxIovecs]unix.Iovec)
	defer iovecs.Put(iov)
	var total int64
	for {
		for len(*bufs) > 0 && len((*bufs)[0]) == 0 {
			*bufs = (*bufs)[1:]
		}
		if len(*bufs) == 0 {
			return total, nil
		}
		if err := c.writeErr(); err != nil {
			return total, err
		}
		k := 0
		for _, b := range *bufs {
			if len(b) == 0 {
				continue
			}
			if k == maxIovecs {
				break
			}
			iov[k].Base = &b[0]
			iov[k].SetLen(len(b))
			k++
		}
		r, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(c.fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
		clear(iov[:k])
		if errno == 0 {
			total += int64(r)
			consume(bufs, int64(r))
			continue
		}
		switch errno {
		case unix.EINTR:
		case unix.EAGAIN:
			if err := c.waitWritable(); err != nil {
				return total, err
			}
		default:
			return total, os.NewSyscallError("writev", errno)
		}
	}
}

// consume drops the first n bytes of bufs, as net.Buffers does.
func consume(bufs *net.Buffers, n int64) {
	for len(*bufs) > 0 {
		l := int64(len((*bufs)[0]))
		if l > n {
			(*bufs)[0] = (*bufs)[0][n:]
			return
		}
		n -= l
		(*bufs)[0] = nil
		*bufs = (*bufs)[1:]
	}
}

// writeNonblock writes as much of p as the socket takes now. It returns
// errWouldBlock when the socket took nothing. The caller holds wmu.
func (c *Conn) writeNonblock(p []byte) (int, error) {
	if c.sockClosed.Load() {
		return 0, net.ErrClosed
	}
	for {
		n, err := unix.Write(int(c.fd), p)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			return 0, errWouldBlock
		default:
			return 0, os.NewSyscallError("write", err)
		}
	}
}

// waitWritable waits until c's socket may take more, its deadline moves
// or passes, or it is closed; the caller, holding wmu, then tries again.
func (c *Conn) waitWritable() error {
	w := writeWaiters.Get().(*writeWaiter)
	select {
	case <-w.ready: // a wake-up meant for a former user
	default:
	}
	// Published before arming and before reading the deadline: a wake-up
	// from the dispatcher or a deadline set from now on finds it.
	c.waiter.Store(w)
	defer func() {
		c.waiter.Store(nil)
		writeWaiters.Put(w)
	}()
	if err := c.armWritable(); err != nil {
		return err
	}
	if err := c.writeErr(); err != nil {
		return err
	}
	d := c.deadline.Load()
	if d == 0 {
		<-w.ready
		return nil
	}
	w.timer.Reset(time.Duration(d - time.Now().UnixNano()))
	select {
	case <-w.ready:
	case <-w.timer.C:
	}
	w.timer.Stop()
	return nil
}

// armWritable asks the write epoll for one event once c's socket may take
// more. The caller holds wmu.
func (c *Conn) armWritable() error {
	ev := c.event()
	ev.Events = unix.EPOLLOUT | unix.EPOLLONESHOT
	// A socket joins the write epoll on its first wait and stays (disarmed
	// between waits) until it is closed: trying MOD first needs no flag in
	// every connection for the few that ever wait.
	err := unix.EpollCtl(c.p.wepfd, unix.EPOLL_CTL_MOD, int(c.fd), &ev)
	if err == unix.ENOENT {
		err = unix.EpollCtl(c.p.wepfd, unix.EPOLL_CTL_ADD, int(c.fd), &ev)
	}
	if err != nil {
		return fmt.Errorf("ws: wait for room: %w", err)
	}
	return nil
}

// dispatchWritable wakes the writes waiting for room in the sockets the
// write epoll reports, until its eventfd is written.
func (p *Poller) dispatchWritable() error {
	return p.waitEvents(p.wepfd, (*Conn).pokeWriter)
}
