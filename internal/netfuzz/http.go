package netfuzz

import (
	"bytes"
	"fmt"
	"strings"
)

// wsKey is the Sec-WebSocket-Key of generated handshakes.
const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

// Handshake is a valid WebSocket handshake for the app's key.
func (g *Gen) handshake() []byte {
	return []byte(fmt.Sprintf("GET /app/%s?protocol=7&client=netfuzz&version=1 HTTP/1.1\r\nHost: herald\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", g.cfg.Key, wsKey))
}

// request returns a request to one of the endpoints, valid but for its
// credentials (the signatures and tokens are wrong), and the endpoint.
func (g *Gen) request() (target string, req []byte) {
	body := `{"name":"e","channels":["c"],"data":"{}"}`
	switch g.r.IntN(6) {
	case 0:
		return "websocket", g.handshake()
	case 1:
		q := fmt.Sprintf("auth_key=%s&auth_timestamp=1&auth_version=1.0&body_md5=x&auth_signature=bad", g.cfg.Key)
		return "rest-publish", []byte(fmt.Sprintf("POST /apps/%s/events?%s HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n%s", g.cfg.AppID, q, len(body), body))
	case 2:
		return "rest-query", []byte(fmt.Sprintf("GET /apps/%s/channels?auth_key=%s&auth_signature=bad HTTP/1.1\r\nHost: herald\r\n\r\n", g.cfg.AppID, g.cfg.Key))
	case 3:
		return "sse", []byte(fmt.Sprintf("GET /sse?key=%s&channel=a HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\nLast-Event-ID: 1-2\r\n\r\n", g.cfg.Key))
	case 4:
		return "admin", []byte("GET /admin/v1/apps HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer not-the-token\r\n\r\n")
	}
	return "ops", []byte("GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n")
}

// mutate applies 1 to 4 random mutations to req.
func (g *Gen) mutate(req []byte) []byte {
	b := bytes.Clone(req)
	for range 1 + g.r.IntN(4) {
		if len(b) == 0 {
			b = g.bytes(1)
		}
		i := g.r.IntN(len(b))
		switch g.r.IntN(8) {
		case 0: // flip a bit
			b[i] ^= 1 << g.r.IntN(8)
		case 1: // a random byte
			b[i] = byte(g.r.Uint32())
		case 2: // insert random bytes
			b = append(b[:i], append(g.bytes(1+g.r.IntN(16)), b[i:]...)...)
		case 3: // remove a range
			j := min(len(b), i+1+g.r.IntN(16))
			b = append(b[:i], b[j:]...)
		case 4: // an interesting byte
			b[i] = pick(g, []byte{0, '\r', '\n', ':', ' ', '%', 0x7f, 0x80, 0xff})
		case 5: // a header the server must handle once, twice
			b = insertHeader(b, pick(g, []string{"Content-Length: 5", "Transfer-Encoding: chunked", "Sec-WebSocket-Key: " + wsKey,
				"Upgrade: websocket", "Sec-WebSocket-Version: 8", "Host: other", "Content-Length: -1", "Sec-WebSocket-Extensions: permessage-deflate"}))
		case 6: // a huge number where a number is
			b = bytes.Replace(b, []byte("1"), []byte("99999999999999999999999"), 1)
		case 7: // cut the request short
			b = b[:i]
		}
	}
	return b
}

// insertHeader puts a header line after the request line.
func insertHeader(req []byte, h string) []byte {
	i := bytes.Index(req, []byte("\r\n"))
	if i < 0 {
		return append(req, h...)
	}
	return append(req[:i+2:i+2], append([]byte(h+"\r\n"), req[i+2:]...)...)
}

// hugeHeaders adds headers to req until they are well past the server's
// cap, as one big header or many.
func (g *Gen) hugeHeaders(req []byte) []byte {
	n := 2*g.cfg.MaxHeaderBytes + g.r.IntN(g.cfg.MaxHeaderBytes)
	var h string
	if g.r.IntN(2) == 0 {
		h = "X-Big: " + strings.Repeat("a", n)
	} else {
		var lines []string
		for i := 0; len(lines)*24 < n; i++ {
			lines = append(lines, fmt.Sprintf("X-Many-%06d: %08d", i, i))
		}
		h = strings.Join(lines, "\r\n")
	}
	return insertHeader(req, h)
}

// slowloris sends req's request line, then its headers a byte per pause,
// never ending them, for longer than the server's header timeout.
func (g *Gen) slowloris(target string, req []byte) Attack {
	head, _, _ := bytes.Cut(req, []byte("\r\n\r\n"))
	line, headers, _ := bytes.Cut(head, []byte("\r\n"))
	n := int(g.cfg.SlowFor / g.cfg.SlowPause)
	// After the request's own headers, headers that never end.
	stream := append(append(bytes.Clone(headers), "\r\n"...), bytes.Repeat([]byte("X-Slow: a\r\n"), n/11+1)...)
	chunks := [][]byte{append(line, "\r\n"...)}
	for i := range n {
		chunks = append(chunks, stream[i:i+1])
	}
	return Attack{Kind: Slowloris, Target: target, Chunks: chunks, Pause: g.cfg.SlowPause}
}
