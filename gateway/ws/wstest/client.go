// Package wstest is a small WebSocket client for tests of Herald's gateway
// and for herald bench's load generator: it masks the frames it sends as
// RFC 6455 requires of clients, reads the server's frames, and can send
// malformed or partial frames on purpose. It is not meant to serve an
// application.
package wstest

import (
	"bufio"
	"context"
	"crypto/rand"
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

	"github.com/heraldhq/herald/gateway/ws"
)

// MaxFrameSize is the largest server frame ReadFrame accepts.
const MaxFrameSize = 16 << 20

// Client is a client WebSocket connection. It is not safe for concurrent
// writes, nor for concurrent reads.
type Client struct {
	conn net.Conn
	br   *bufio.Reader
}

// HandshakeError is returned by Dial when the server does not answer 101.
type HandshakeError struct {
	StatusCode int
	Body       string
}

// Error returns the status and body.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("wstest: handshake refused: %d %s", e.StatusCode, strings.TrimSpace(e.Body))
}

// Frame is a frame received from the server.
type Frame struct {
	Fin     bool
	Op      ws.Opcode
	Payload []byte
}

// Dial connects to rawURL (ws:// or http://) and performs the handshake,
// sending header as extra request headers. ctx bounds the dial and the
// handshake. A refusal is a *HandshakeError.
func Dial(ctx context.Context, rawURL string, header http.Header) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("wstest: parse url: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("wstest: dial: %w", err)
	}
	c, err := Handshake(ctx, conn, u, header)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Handshake performs the client handshake on an open connection.
func Handshake(ctx context.Context, conn net.Conn, u *url.URL, header http.Header) (*Client, error) {
	if d, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(d); err != nil {
			return nil, fmt.Errorf("wstest: set deadline: %w", err)
		}
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])

	req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: u.Host}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", u.RequestURI(), u.Host)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if err := header.Write(&b); err != nil {
		return nil, fmt.Errorf("wstest: write headers: %w", err)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, fmt.Errorf("wstest: write handshake: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("wstest: read handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		return nil, &HandshakeError{StatusCode: resp.StatusCode, Body: string(body)}
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), ws.AcceptKey(key); got != want {
		return nil, fmt.Errorf("wstest: Sec-WebSocket-Accept %q, want %q", got, want)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("wstest: clear deadline: %w", err)
	}
	return &Client{conn: conn, br: br}, nil
}

// Wrap returns a Client reading and writing conn, a connection that is
// already past its handshake (a test that hands the server end to a
// Poller itself).
func Wrap(conn net.Conn) *Client { return &Client{conn: conn, br: bufio.NewReader(conn)} }

// NetConn returns the underlying connection.
func (c *Client) NetConn() net.Conn { return c.conn }

// SetDeadline sets the read and write deadline of the connection.
func (c *Client) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// Close closes the TCP connection without a closing handshake.
func (c *Client) Close() error { return c.conn.Close() }

// WriteRaw writes b as is, for malformed or partial frames.
func (c *Client) WriteRaw(b []byte) error {
	_, err := c.conn.Write(b)
	return err
}

// WriteFrame writes one frame masked with a random key.
func (c *Client) WriteFrame(op ws.Opcode, fin bool, payload []byte) error {
	return c.WriteRaw(AppendMaskedFrame(nil, op, fin, payload, RandomKey()))
}

// WriteText writes a text message in one frame.
func (c *Client) WriteText(s string) error { return c.WriteFrame(ws.OpText, true, []byte(s)) }

// WriteClose writes a close frame with code and reason (code 0: no status).
func (c *Client) WriteClose(code uint16, reason string) error {
	return c.WriteFrame(ws.OpClose, true, ClosePayload(code, reason))
}

// ReadFrame reads the next frame from the server. It fails on a masked
// frame (servers must not mask) and on frames over MaxFrameSize.
func (c *Client) ReadFrame() (Frame, error) {
	f, n, err := c.readHeader()
	if err != nil {
		return Frame{}, err
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// ReadFrameInPlace is ReadFrame without a copy, for clients that read many
// frames: the payload is valid only until the next read. It is read in
// place when it fits the read buffer (4 KiB), into *scratch, grown as
// needed, otherwise.
func (c *Client) ReadFrameInPlace(scratch *[]byte) (Frame, error) {
	f, n, err := c.readHeader()
	if err != nil {
		return Frame{}, err
	}
	if n <= c.br.Size() {
		// Peek's bytes stay valid until the next read.
		if f.Payload, err = c.br.Peek(n); err != nil {
			return Frame{}, err
		}
		_, _ = c.br.Discard(n)
		return f, nil
	}
	if cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	f.Payload = (*scratch)[:n]
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// readHeader reads a frame's header: the frame without its payload, and
// the payload's length.
func (c *Client) readHeader() (Frame, int, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return Frame{}, 0, err
	}
	f := Frame{Fin: h[0]&0x80 != 0, Op: ws.Opcode(h[0] & 0x0F)}
	if h[0]&0x70 != 0 {
		return Frame{}, 0, errors.New("wstest: server frame has reserved bits set")
	}
	if h[1]&0x80 != 0 {
		return Frame{}, 0, errors.New("wstest: server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return Frame{}, 0, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return Frame{}, 0, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > MaxFrameSize {
		return Frame{}, 0, fmt.Errorf("wstest: frame of %d bytes", n)
	}
	return f, int(n), nil
}

// ReadMessage reads the next message, joining fragments. Control frames
// are returned as they arrive.
func (c *Client) ReadMessage() (ws.Opcode, []byte, error) {
	var (
		op  ws.Opcode
		msg []byte
	)
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return 0, nil, err
		}
		if f.Op.IsControl() {
			return f.Op, f.Payload, nil
		}
		if f.Op != ws.OpContinuation {
			op = f.Op
		}
		msg = append(msg, f.Payload...)
		if f.Fin {
			return op, msg, nil
		}
	}
}

// ReadClose reads frames until a close frame and returns its code
// (ws.CloseNoStatus if it had none) and reason.
func (c *Client) ReadClose() (uint16, string, error) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return 0, "", err
		}
		if f.Op == ws.OpClose {
			code, reason := ws.Message{Op: f.Op, Payload: f.Payload}.CloseStatus()
			return code, reason, nil
		}
	}
}

// RandomKey returns a random masking key.
func RandomKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], mrand.Uint32())
	return k
}

// ClosePayload returns the payload of a close frame: the code and reason,
// or nothing when code is 0.
func ClosePayload(code uint16, reason string) []byte {
	if code == 0 {
		return nil
	}
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// AppendMaskedFrame appends a client frame masked with key. Lengths use the
// shortest encoding.
func AppendMaskedFrame(dst []byte, op ws.Opcode, fin bool, payload []byte, key [4]byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	n := len(payload)
	switch {
	case n <= 125:
		dst = append(dst, b0, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= key[i&3]
	}
	return dst
}
