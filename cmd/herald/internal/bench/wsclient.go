package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// Sizes of the client's per-connection memory.
const (
	// readBufferSize is each connection's read buffer: a frame that fits
	// is parsed in place.
	readBufferSize = 4 << 10
	// maxFrameSize bounds a server frame.
	maxFrameSize = 16 << 20
)

// websocketGUID is the RFC 6455 constant of the accept key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errServerClosed is returned by readFrame's callers when the server sent
// a close frame.
var errServerClosed = errors.New("server closed the connection")

// wsConn is a lean client WebSocket connection: one reader (readFrame) and
// one writer at a time (writeText, writeControl).
type wsConn struct {
	nc      net.Conn
	br      *bufio.Reader
	scratch []byte // payloads larger than the read buffer
	wbuf    []byte
}

// dialWS connects to rawURL (ws://host/path?query) and performs the
// opening handshake. Until stop is called, the end of ctx aborts any read
// or write on the connection; stop reports false if it did (the
// connection is then unusable).
func dialWS(ctx context.Context, rawURL string) (c *wsConn, stop func() bool, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("parse url: %w", err)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	// A deadline in the past fails the blocked call at once.
	stop = context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	c, err = handshake(nc, u)
	if err != nil {
		stop()
		nc.Close()
		return nil, nil, err
	}
	return c, stop, nil
}

func handshake(nc net.Conn, u *url.URL) (*wsConn, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, fmt.Errorf("write handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, readBufferSize)
	res, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, fmt.Errorf("read handshake: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("handshake refused: %s", res.Status)
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	if res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, errors.New("handshake: wrong Sec-WebSocket-Accept")
	}
	return &wsConn{nc: nc, br: br}, nil
}

// readFrame reads the next frame. The payload is valid until the next call.
// Fragmented messages are not supported: Herald never fragments.
func (c *wsConn) readFrame() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 {
		return 0, nil, errors.New("fragmented server message")
	}
	op = h[0] & 0x0F
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > maxFrameSize {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	if int(n) <= c.br.Size() {
		// In place: Peek's bytes stay valid until the next read.
		payload, err = c.br.Peek(int(n))
		if err != nil {
			return 0, nil, err
		}
		_, _ = c.br.Discard(int(n))
		return op, payload, nil
	}
	if cap(c.scratch) < int(n) {
		c.scratch = make([]byte, n)
	}
	payload = c.scratch[:n]
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return op, payload, nil
}

// writeFrame writes one masked frame.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	b := append(c.wbuf[:0], 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], mrand.Uint32())
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	c.wbuf = b
	_, err := c.nc.Write(b)
	return err
}

// writeText writes a text message.
func (c *wsConn) writeText(s string) error { return c.writeFrame(opText, []byte(s)) }

// close closes the TCP connection without a closing handshake.
func (c *wsConn) close() error { return c.nc.Close() }

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
