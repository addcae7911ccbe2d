// Package reqframe refuses HTTP/1.1 requests whose framing is ambiguous,
// the raw material of request smuggling (docs/security.md, "Security
// checks"). net/http reads a request with both Content-Length and
// Transfer-Encoding by the latter and keeps the connection open, folds
// obs-fold continuation lines, and accepts a Content-Length given twice
// with one value: all of which a proxy in front may read differently,
// so that what it forwards as one request's body reaches Herald as a
// second request. Go's parser keeps no trace of these in the Request, so
// a Listener scans the bytes of each connection as they are read, and
// Handler answers every request of a connection found ambiguous with 400
// and closes it.
package reqframe

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Listener wraps ln so that Handler can judge the requests of its
// connections; maxHead bounds the bytes of one request head the scanner
// follows (past it net/http refuses the request itself). Wrap it around
// a TLS listener, never under one: the scanner reads plaintext.
func Listener(ln net.Listener, maxHead int) net.Listener {
	return &listener{Listener: ln, maxHead: maxHead}
}

type listener struct {
	net.Listener
	maxHead int
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, scan: scanner{maxHead: l.maxHead}}, nil
}

// Conn is an accepted connection whose reads are scanned.
type Conn struct {
	net.Conn
	// mu serializes scanning: net/http reads on one goroutine at a time,
	// but its background read may overlap a handler's hijack.
	mu   sync.Mutex
	scan scanner
	bad  atomic.Bool
}

// Read reads from the connection and scans what it read.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.bad.Load() {
		c.mu.Lock()
		if c.scan.feed(p[:n]) {
			c.bad.Store(true)
		}
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite half-closes the connection when it can, so that net/http's
// answer to a refused request is read before the socket goes: closing a
// socket with unread input resets it.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn returns the wrapped connection: a WebSocket taken over from
// net/http (Unwrap) is served from it, past the scanner.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Unwrap returns the connection under c if c is a *Conn, else c: the
// socket or *tls.Conn a hijacked connection is to be served from.
func Unwrap(c net.Conn) net.Conn {
	if rc, ok := c.(*Conn); ok {
		return rc.Conn
	}
	return c
}

type connKey struct{}

// ConnContext is the http.Server's ConnContext: it lets Handler find the
// connection of a request.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, connKey{}, rc)
	}
	return ctx
}

// Handler passes the requests of sound connections to next, and answers
// those of a connection found ambiguous with refuse (which must write a
// 400) and Connection: close. It also restores r.TLS, which net/http
// leaves nil for a TLS connection it does not see as one.
func Handler(next http.Handler, refuse func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*Conn)
		if c == nil {
			next.ServeHTTP(w, r)
			return
		}
		if c.bad.Load() {
			w.Header().Set("Connection", "close")
			refuse(w, r)
			return
		}
		if tc, ok := c.Conn.(*tls.Conn); ok && r.TLS == nil {
			st := tc.ConnectionState()
			r.TLS = &st
		}
		next.ServeHTTP(w, r)
	})
}
