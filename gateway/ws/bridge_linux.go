//go:build linux && !herald_portable_ws

package ws

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TLS connections: the Poller waits on file descriptors, and a *tls.Conn
// decrypts in user space, so its socket being readable says nothing about
// whether a record is complete. A bridge gives the poller a socket it can
// wait on: one end of a socketpair, while two goroutines copy between the
// other end and the TLS connection. This costs those goroutines per TLS
// connection; deployments with many connections terminate TLS in front of
// the gateway instead (a load balancer), which keeps idle connections free
// of goroutines.

// bridgeBufferSize is the copy buffer of each direction of a bridge.
const bridgeBufferSize = 16 << 10

// bridgedConn is the poller's end of a bridge: a Unix socket that reports
// the TLS connection's addresses.
type bridgedConn struct {
	*net.UnixConn
	local, remote net.Addr
}

func (c *bridgedConn) LocalAddr() net.Addr  { return c.local }
func (c *bridgedConn) RemoteAddr() net.Addr { return c.remote }

// bridge starts copying between tc and a new socketpair and returns the
// poller's end. Closing that end stops both goroutines and closes tc once
// what was written to it is sent; tc failing closes it. Shutting down the
// write side of that end (a lingering close) ends the TLS stream's
// writing side, and tc is closed when the poller closes its end, the
// client closes or the linger is over. Writes to tc time
// out after writeTimeout, so a client that stops reading cannot hold the
// goroutines.
func (p *Poller) bridge(tc *tls.Conn) (net.Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("ws: socketpair: %w", err)
	}
	ours, err := fileConn(fds[0])
	if err != nil {
		unix.Close(fds[1])
		return nil, err
	}
	theirs, err := fileConn(fds[1])
	if err != nil {
		ours.Close()
		return nil, err
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			theirs.Close()
			tc.Close()
		})
	}
	p.bridges.Add(2)
	go func() {
		defer p.bridges.Done()
		defer stop()
		// Client to server: decrypted bytes into the poller's socket.
		buf := make([]byte, bridgeBufferSize)
		for {
			n, err := tc.Read(buf)
			if n > 0 {
				if _, werr := theirs.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer p.bridges.Done()
		// Server to client: what the poller's side wrote, encrypted.
		buf := make([]byte, bridgeBufferSize)
		for {
			n, err := theirs.Read(buf)
			if n > 0 {
				_ = tc.SetWriteDeadline(time.Now().Add(p.cfg.WriteTimeout))
				if _, werr := tc.Write(buf[:n]); werr != nil {
					stop()
					return
				}
			}
			if errors.Is(err, io.EOF) && !p.stopping.Load() {
				// The poller shut down its side after a close frame and
				// lingers: pass the end on (close_notify) and let the
				// other direction drain what the client still sends, for
				// no longer than the linger.
				_ = tc.CloseWrite()
				_ = tc.SetReadDeadline(time.Now().Add(max(p.cfg.CloseLinger, 0)))
				return
			}
			if err != nil {
				stop()
				return
			}
		}
	}()
	return &bridgedConn{UnixConn: ours, local: tc.LocalAddr(), remote: tc.RemoteAddr()}, nil
}

// fileConn wraps a socket descriptor in a *net.UnixConn (which takes a
// duplicate; fd itself is closed).
func fileConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "ws-bridge")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("ws: bridge socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("ws: bridge socket is not a unix socket")
	}
	return uc, nil
}
