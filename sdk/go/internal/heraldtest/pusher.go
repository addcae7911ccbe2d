package heraldtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// A minimal Pusher protocol client over a minimal WebSocket client (RFC
// 6455: text frames, masked from the client; close and ping handled), so
// that the server client's tests can subscribe as a browser would without
// the module depending on a WebSocket library. The realtime client
// (sdk/go/realtime) is the SDK's real one.

// WebSocket opcodes and limits.
const (
	opContinuation = 0x0
	opText         = 0x1
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
	// Frame header bits and payload length markers.
	finBit    = 0x80
	maskBit   = 0x80
	opMask    = 0x0F
	lenMask   = 0x7F
	len16     = 126
	len64     = 127
	maxLen7   = 125
	maskBytes = 4
	// maxFrame bounds a frame the client reads.
	maxFrame = 16 << 20
	// dialTimeout bounds the TCP connect and the handshake.
	dialTimeout = 10 * time.Second
)

// Frame is one Pusher protocol event the server sent.
type Frame struct {
	Event   string `json:"event"`
	Channel string `json:"channel,omitempty"`
	// Data is the event's data: for server events a JSON string holding
	// the payload (Pusher's double encoding), decoded by DataString.
	Data   json.RawMessage `json:"data,omitempty"`
	UserID string          `json:"user_id,omitempty"`
}

// DataString is Data unquoted when it is a JSON string, else as is.
func (f Frame) DataString() string {
	var s string
	if json.Unmarshal(f.Data, &s) == nil {
		return s
	}
	return string(f.Data)
}

// Pusher is a connected Pusher protocol client.
type Pusher struct {
	// SocketID is the connection's socket id.
	SocketID string

	conn    net.Conn
	rd      *bufio.Reader
	writeMu sync.Mutex
}

// DialPusher connects to baseURL's /app/{key} (query adds parameters,
// such as "token=…") and waits for pusher:connection_established.
func DialPusher(ctx context.Context, baseURL, key, query string) (*Pusher, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("heraldtest: %w", err)
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("heraldtest: dial: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	path := "/app/" + url.PathEscape(key) + "?protocol=7&client=heraldtest&version=0"
	if query != "" {
		path += "&" + query
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(nonce[:]) + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, fmt.Errorf("heraldtest: handshake: %w", err)
	}
	rd := bufio.NewReader(conn)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("heraldtest: handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		conn.Close()
		return nil, fmt.Errorf("heraldtest: handshake: %d %s", resp.StatusCode, body)
	}
	_ = conn.SetDeadline(time.Time{})
	p := &Pusher{conn: conn, rd: rd}
	f, err := p.Next(dialTimeout)
	if err != nil {
		p.Close()
		return nil, err
	}
	if f.Event != "pusher:connection_established" {
		p.Close()
		return nil, fmt.Errorf("heraldtest: first event %s %s", f.Event, f.Data)
	}
	var est struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(f.DataString()), &est); err != nil {
		p.Close()
		return nil, fmt.Errorf("heraldtest: connection_established %s: %w", f.Data, err)
	}
	p.SocketID = est.SocketID
	return p, nil
}

// Close closes the connection.
func (p *Pusher) Close() error { return p.conn.Close() }

// Send sends a protocol event; data is sent as JSON (an object, as
// pusher-js sends it).
func (p *Pusher) Send(event, channel string, data any) error {
	msg := map[string]any{"event": event, "data": data}
	if channel != "" {
		msg["channel"] = channel
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return p.writeFrame(opText, b)
}

// Subscribe sends pusher:subscribe with an authorization (the JSON an
// auth endpoint answers; nil for public channels) and waits for
// pusher_internal:subscription_succeeded.
func (p *Pusher) Subscribe(channel string, authorization []byte, timeout time.Duration) error {
	data := map[string]any{"channel": channel}
	if authorization != nil {
		var auth map[string]any
		if err := json.Unmarshal(authorization, &auth); err != nil {
			return fmt.Errorf("heraldtest: authorization %s: %w", authorization, err)
		}
		for k, v := range auth {
			if k != "shared_secret" {
				data[k] = v
			}
		}
	}
	if err := p.Send("pusher:subscribe", "", data); err != nil {
		return err
	}
	_, err := p.WaitFor(timeout, func(f Frame) bool {
		return f.Event == "pusher_internal:subscription_succeeded" && f.Channel == channel
	})
	return err
}

// WaitFor reads events until match accepts one, which it returns; an
// error event for the connection or the subscription ends the wait.
func (p *Pusher) WaitFor(timeout time.Duration, match func(Frame) bool) (Frame, error) {
	deadline := time.Now().Add(timeout)
	for {
		f, err := p.Next(time.Until(deadline))
		if err != nil {
			return Frame{}, err
		}
		if match(f) {
			return f, nil
		}
		if f.Event == "pusher:error" || f.Event == "pusher:subscription_error" {
			return f, fmt.Errorf("heraldtest: %s %s", f.Event, f.Data)
		}
	}
}

// ErrClosed is a connection the server closed; CloseCode has its code.
var ErrClosed = errors.New("heraldtest: connection closed")

// CloseError is the close frame the server sent.
type CloseError struct{ Code int }

func (e *CloseError) Error() string {
	return fmt.Sprintf("heraldtest: connection closed with %d", e.Code)
}

// Unwrap makes a CloseError match ErrClosed.
func (e *CloseError) Unwrap() error { return ErrClosed }

// Next reads the next protocol event within timeout, answering pings.
func (p *Pusher) Next(timeout time.Duration) (Frame, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	var msg []byte
	for {
		fin, op, payload, err := p.readFrame()
		if err != nil {
			return Frame{}, fmt.Errorf("heraldtest: read: %w", err)
		}
		switch op {
		case opPing:
			if err := p.writeFrame(opPong, payload); err != nil {
				return Frame{}, err
			}
			continue
		case opPong:
			continue
		case opClose:
			code := 0
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			return Frame{}, &CloseError{Code: code}
		case opText, opContinuation:
			msg = append(msg, payload...)
		}
		if !fin {
			continue
		}
		var f Frame
		if err := json.Unmarshal(msg, &f); err != nil {
			return Frame{}, fmt.Errorf("heraldtest: frame %q: %w", msg, err)
		}
		return f, nil
	}
}

func (p *Pusher) readFrame() (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(p.rd, h[:]); err != nil {
		return
	}
	fin, op = h[0]&finBit != 0, h[0]&opMask
	n := uint64(h[1] & lenMask)
	switch n {
	case len16:
		var ext [2]byte
		if _, err = io.ReadFull(p.rd, ext[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case len64:
		var ext [8]byte
		if _, err = io.ReadFull(p.rd, ext[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > maxFrame {
		return false, 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(p.rd, payload)
	return
}

// writeFrame writes one masked frame, as a client must.
func (p *Pusher) writeFrame(op byte, payload []byte) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	buf := []byte{finBit | op}
	switch n := len(payload); {
	case n <= maxLen7:
		buf = append(buf, maskBit|byte(n))
	case n <= math.MaxUint16:
		buf = append(buf, maskBit|len16)
		buf = binary.BigEndian.AppendUint16(buf, uint16(n))
	default:
		buf = append(buf, maskBit|len64)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	var mask [maskBytes]byte
	_, _ = rand.Read(mask[:])
	buf = append(buf, mask[:]...)
	for i, b := range payload {
		buf = append(buf, b^mask[i%maskBytes])
	}
	_ = p.conn.SetWriteDeadline(time.Now().Add(dialTimeout))
	_, err := p.conn.Write(buf)
	return err
}
