package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// errServerClosed is returned by readFrame's callers when the server sent
// a close frame.
var errServerClosed = errors.New("server closed the connection")

// wsConn is a lean client WebSocket connection: one reader (readFrame) and
// one writer at a time (writeText, writeFrame), reusing its buffers.
type wsConn struct {
	c       *wstest.Client
	scratch []byte // payloads larger than the read buffer
	wbuf    []byte
}

// dialWS connects to rawURL (ws://host/path?query), from src unless it
// is nil, and performs the opening handshake. Until stop is called, the end of ctx aborts any read
// or write on the connection; stop reports false if it did (the
// connection is then unusable).
func dialWS(ctx context.Context, rawURL string, src *net.TCPAddr) (c *wsConn, stop func() bool, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("parse url: %w", err)
	}
	d := net.Dialer{}
	if src != nil {
		d.LocalAddr = src
	}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	// A deadline in the past fails the blocked call at once.
	stop = context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	wc, err := wstest.Handshake(ctx, nc, u, nil)
	if err == nil && ctx.Err() != nil {
		// The handshake clears the deadline when it is done, which may
		// have undone the one set above.
		err = ctx.Err()
	}
	if err != nil {
		stop()
		nc.Close()
		return nil, nil, err
	}
	return &wsConn{c: wc}, stop, nil
}

// readFrame reads the next frame. The payload is valid until the next call.
// Fragmented messages are not supported: Herald never fragments.
func (c *wsConn) readFrame() (ws.Opcode, []byte, error) {
	f, err := c.c.ReadFrameInPlace(&c.scratch)
	if err != nil {
		return 0, nil, err
	}
	if !f.Fin {
		return 0, nil, errors.New("fragmented server message")
	}
	return f.Op, f.Payload, nil
}

// writeFrame writes one masked frame.
func (c *wsConn) writeFrame(op ws.Opcode, payload []byte) error {
	c.wbuf = wstest.AppendMaskedFrame(c.wbuf[:0], op, true, payload, wstest.RandomKey())
	return c.c.WriteRaw(c.wbuf)
}

// writeText writes a text message.
func (c *wsConn) writeText(s string) error { return c.writeFrame(ws.OpText, []byte(s)) }

// close closes the TCP connection without a closing handshake.
func (c *wsConn) close() error { return c.c.Close() }

// wsURL turns the API's base URL (http://host:port) into the WebSocket
// URL of app key key.
func wsURL(base, key string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse --url: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		return "", errors.New("bench: TLS is not supported; point --url at the gateway's plain HTTP address")
	default:
		return "", fmt.Errorf("bench: unsupported URL scheme %q", u.Scheme)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/app/" + url.PathEscape(key)
	u.RawQuery = "protocol=7&client=herald-bench&version=1"
	return u.String(), nil
}
