package ws

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// DefaultHandshakeTimeout bounds writing the 101 response when
// UpgradeConfig.Timeout is zero.
const DefaultHandshakeTimeout = 5 * time.Second

// keyGUID is appended to the client's key to compute Sec-WebSocket-Accept
// (RFC 6455 section 1.3).
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// switchingResponseCap and firstFramesCap size the buffer of a 101
// response so that it and a typical greeting (Pusher's
// connection_established is about 120 bytes) fit without growing it.
const (
	switchingResponseCap = 256
	firstFramesCap       = 256
)

// keyLen is the decoded size of a valid Sec-WebSocket-Key.
const keyLen = 16

// UpgradeConfig configures Upgrade. The zero value is usable.
type UpgradeConfig struct {
	// Header holds extra headers for the 101 response.
	Header http.Header
	// Timeout bounds writing the 101 response. Zero means
	// DefaultHandshakeTimeout.
	Timeout time.Duration
	// Refuse writes the answer to a request that is not a valid
	// handshake, in the caller's error format; the headers that tell the
	// client what would work (Allow, Upgrade, Sec-WebSocket-Version) are
	// set before it runs. Nil answers with http.Error.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, reason string)
}

// Upgrade validates a client's WebSocket handshake (RFC 6455 section 4.2.1),
// takes over the connection and answers 101 Switching Protocols. It returns
// the connection, with every deadline cleared, and the bytes the client sent
// after its handshake that were already read from the socket (nil if none):
// they come before anything else read from the connection, so pass them to
// Poller.Add.
//
// On a request that is not a valid handshake it answers with 405 (method),
// 426 (no upgrade to websocket or an unsupported version) or 400 (bad key)
// and a one-line reason, written by cfg.Refuse when it is set, and returns
// an error wrapping ErrBadHandshake. No subprotocol or extension is
// negotiated.
func Upgrade(w http.ResponseWriter, r *http.Request, cfg UpgradeConfig) (net.Conn, []byte, error) {
	a, err := Accept(w, r, cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := a.Send(nil); err != nil {
		a.Conn.Close()
		return nil, nil, err
	}
	return a.Conn, a.Initial, nil
}

// Accepted is a valid handshake whose connection was taken over but not
// yet answered: Send writes the 101 response together with the server's
// first frames, in one write instead of two (a server that greets every
// client, as Pusher's connection_established does, saves a system call
// per connection).
type Accepted struct {
	// Conn is the connection, to close if Send is never called.
	Conn net.Conn
	// Initial holds the bytes the client sent after its handshake that
	// were already read (nil if none); pass them to Poller.Add.
	Initial []byte

	response []byte
	timeout  time.Duration
}

// Accept is Upgrade without the answer: it validates the handshake
// (refusing an invalid one as Upgrade does) and takes over the
// connection; the caller must then call Send, or close Conn.
func Accept(w http.ResponseWriter, r *http.Request, cfg UpgradeConfig) (Accepted, error) {
	if hs := checkHandshake(r); hs != nil {
		for k, v := range hs.header {
			w.Header()[k] = v
		}
		cfg.refuse(w, r, hs.status, hs.reason)
		return Accepted{}, fmt.Errorf("%w: %s", ErrBadHandshake, hs.reason)
	}
	response, err := switchingResponse(strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key")), cfg.Header)
	if err != nil {
		cfg.refuse(w, r, http.StatusInternalServerError, "websocket upgrade not available")
		return Accepted{}, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2, or a ResponseWriter that cannot hijack: w still works.
		cfg.refuse(w, r, http.StatusInternalServerError, "websocket upgrade not available")
		return Accepted{}, fmt.Errorf("ws: hijack: %w", err)
	}
	initial, err := takeBuffered(brw.Reader)
	if err != nil {
		nc.Close()
		return Accepted{}, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	return Accepted{Conn: nc, Initial: initial, response: response, timeout: timeout}, nil
}

// Send clears the deadlines the HTTP server set (they would outlive the
// handshake) and writes the 101 response followed by frames (encoded
// frames, or nil) within the handshake timeout. On an error the caller
// closes Conn.
func (a Accepted) Send(frames []byte) error {
	nc := a.Conn
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("ws: clear deadlines: %w", err)
	}
	if err := nc.SetWriteDeadline(time.Now().Add(a.timeout)); err != nil {
		return fmt.Errorf("ws: set handshake deadline: %w", err)
	}
	out := a.response
	if len(frames) > 0 {
		out = append(out, frames...)
	}
	if _, err := nc.Write(out); err != nil {
		return fmt.Errorf("ws: write handshake: %w", err)
	}
	if err := nc.SetWriteDeadline(time.Time{}); err != nil {
		return fmt.Errorf("ws: clear handshake deadline: %w", err)
	}
	return nil
}

// refuse answers a refused handshake with cfg.Refuse or http.Error.
func (cfg UpgradeConfig) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	if cfg.Refuse != nil {
		cfg.Refuse(w, r, status, reason)
		return
	}
	http.Error(w, reason, status)
}

// badHandshake is why a request was refused and how to answer it.
type badHandshake struct {
	status int
	reason string
	header http.Header
}

// checkHandshake returns nil for a valid client handshake.
func checkHandshake(r *http.Request) *badHandshake {
	switch {
	case r.Method == http.MethodHead:
		// A HEAD gets what its GET would (RFC 9110), and no GET that a
		// HEAD mirrors upgrades: a handshake is a GET (RFC 6455).
		return notUpgrade()
	case r.Method != http.MethodGet:
		return &badHandshake{http.StatusMethodNotAllowed, "websocket handshake must be a GET",
			http.Header{"Allow": {http.MethodGet + ", " + http.MethodHead}}}
	case !r.ProtoAtLeast(1, 1):
		return &badHandshake{http.StatusBadRequest, "websocket handshake needs HTTP/1.1", nil}
	case !hasToken(r.Header, "Connection", "upgrade"), !hasToken(r.Header, "Upgrade", "websocket"):
		return notUpgrade()
	}
	if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
		return &badHandshake{http.StatusUpgradeRequired, "unsupported websocket version",
			http.Header{"Sec-Websocket-Version": {"13"}}}
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return &badHandshake{http.StatusBadRequest, "missing or repeated Sec-WebSocket-Key", nil}
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0]))
	if err != nil || len(key) != keyLen {
		return &badHandshake{http.StatusBadRequest, "invalid Sec-WebSocket-Key", nil}
	}
	return nil
}

// notUpgrade refuses a request that does not ask for a WebSocket.
func notUpgrade() *badHandshake {
	return &badHandshake{http.StatusUpgradeRequired, "not a websocket upgrade request",
		http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}}
}

// hasToken reports whether a comma-separated header (possibly repeated)
// contains token, compared case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// AcceptKey returns the Sec-WebSocket-Accept value that answers a
// Sec-WebSocket-Key (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// takeBuffered returns a copy of what the HTTP server read past the
// request, so no frame the client sent early is lost.
func takeBuffered(br *bufio.Reader) ([]byte, error) {
	n := br.Buffered()
	if n == 0 {
		return nil, nil
	}
	b, err := br.Peek(n)
	if err != nil {
		return nil, fmt.Errorf("ws: read buffered bytes: %w", err)
	}
	return bytes.Clone(b), nil
}

// switchingResponse is the 101 response to a client's key, with extra
// headers; its spare capacity takes the first frames Send appends.
func switchingResponse(key string, extra http.Header) ([]byte, error) {
	b := bytes.NewBuffer(make([]byte, 0, switchingResponseCap+firstFramesCap))
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(AcceptKey(key))
	b.WriteString("\r\n")
	if err := extra.Write(b); err != nil {
		return nil, fmt.Errorf("ws: write handshake headers: %w", err)
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}
