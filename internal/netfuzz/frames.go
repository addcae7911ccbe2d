package netfuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// Want is what a conforming gateway answers to a WebSocket attack.
type Want struct {
	// Close is the close code the gateway sends: the protocol error's,
	// the echo of the client's close frame (ws.CloseNoStatus for one
	// without a status), or 1008 when Timeout is set.
	Close uint16
	// Timeout is set when the input ends inside a frame or a fragmented
	// message: the frame read timeout ends the connection.
	Timeout bool
	// Open is set when the input was valid and complete: the connection
	// stays open, and the close frame the driver then sends is echoed.
	Open bool
}

// Predict runs b, the bytes a client sends after its handshake, through
// the gateway's parser with the gateway's message cap and returns what the
// gateway must answer.
func Predict(b []byte, maxMessage int) Want {
	p := ws.NewParser(ws.ParserConfig{MaxMessageSize: maxMessage})
	p.Feed(bytes.Clone(b))
	for {
		m, ok, err := p.Next()
		var pe *ws.ProtocolError
		if errors.As(err, &pe) {
			return Want{Close: pe.Code}
		}
		if !ok {
			break
		}
		if m.Op == ws.OpClose {
			code, _ := m.CloseStatus()
			return Want{Close: code}
		}
	}
	if p.Pending() {
		return Want{Close: ws.ClosePolicyViolation, Timeout: true}
	}
	return Want{Open: true}
}

// pingJSON is a valid Pusher message.
const pingJSON = `{"event":"` + protocol.EventPing + `","data":{}}`

// maxFrames is the most frames one attack sends; with maxPayload it keeps
// a fragmented message under any cap the tests configure, so that only
// the frames meant to pass the cap do.
const (
	maxFrames  = 6
	maxPayload = 600
)

// frameAttack is a valid handshake followed by generated frames, perhaps
// mutated or cut, written in a few pieces.
func (g *Gen) frameAttack() Attack {
	var b []byte
	for range 1 + g.r.IntN(maxFrames) {
		b = append(b, g.frame()...)
	}
	if g.r.IntN(4) == 0 {
		b[g.r.IntN(len(b))] ^= 1 << g.r.IntN(8)
	}
	if g.r.IntN(6) == 0 && len(b) > 1 {
		b = b[:1+g.r.IntN(len(b)-1)]
	}
	return g.wsAttack(BadFrames, b)
}

// wsAttack is an attack sending b after the handshake, in up to 4 pieces
// a few milliseconds apart.
func (g *Gen) wsAttack(k Kind, b []byte) Attack {
	a := Attack{Kind: k, Target: "websocket", Handshake: g.handshake(), Want: Predict(b, g.cfg.MaxMessage),
		Pause: time.Duration(g.r.IntN(5)) * time.Millisecond}
	for pieces := 1 + g.r.IntN(4); pieces > 1 && len(b) > 1; pieces-- {
		i := 1 + g.r.IntN(len(b)-1)
		a.Chunks = append(a.Chunks, b[:i])
		b = b[i:]
	}
	a.Chunks = append(a.Chunks, b)
	return a
}

// frame returns one generated client frame.
func (g *Gen) frame() []byte {
	key := [4]byte{byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32())}
	masked := func(op ws.Opcode, fin bool, p []byte) []byte { return wstest.AppendMaskedFrame(nil, op, fin, p, key) }
	switch g.r.IntN(14) {
	case 0:
		return masked(ws.OpText, true, []byte(g.text(g.r.IntN(maxPayload))))
	case 1:
		return masked(ws.OpText, true, []byte(pingJSON))
	case 2:
		return masked(ws.OpPing, true, g.bytes(g.r.IntN(ws.MaxControlPayload+1)))
	case 3:
		return masked(ws.OpPong, true, g.bytes(g.r.IntN(ws.MaxControlPayload+1)))
	case 4: // any opcode, reserved ones included
		return masked(ws.Opcode(g.r.IntN(16)), g.r.IntN(2) == 0, g.bytes(g.r.IntN(maxPayload)))
	case 5: // not masked
		return append([]byte{0x81, byte(len(pingJSON))}, pingJSON...)
	case 6: // reserved bits; RSV1 is the permessage-deflate flag
		f := masked(pick(g, []ws.Opcode{ws.OpText, ws.OpPing, ws.OpContinuation}), true, []byte(pingJSON))
		f[0] |= byte(1+g.r.IntN(7)) << 4
		return f
	case 7: // a 64-bit length past any cap, or with the high bit set
		f := []byte{0x81, 0x80 | 127}
		n := uint64(g.cfg.MaxMessage) + 1 + g.r.Uint64N(1<<62)
		if g.r.IntN(2) == 0 {
			n |= 1 << 63
		}
		f = binary.BigEndian.AppendUint64(f, n)
		return append(f, key[:]...)
	case 8: // fragmented control frame
		return masked(pick(g, []ws.Opcode{ws.OpPing, ws.OpPong, ws.OpClose}), false, []byte("frag"))
	case 9:
		return masked(ws.OpBinary, true, g.bytes(g.r.IntN(maxPayload)))
	case 10:
		return masked(ws.OpClose, true, g.closePayload())
	case 11: // invalid UTF-8 inside text
		return masked(ws.OpText, true, []byte("caf\xc3"+pick(g, []string{"(", "\xed\xa0\x80", "\xff", "\xc0\xaf"})))
	case 12: // a fragmented message, maybe unfinished
		t := []byte(pingJSON)
		i := g.r.IntN(len(t))
		f := masked(ws.OpText, false, t[:i])
		return append(f, masked(ws.OpContinuation, g.r.IntN(3) != 0, t[i:])...)
	}
	// A control frame announcing more than a control frame may carry.
	f := masked(ws.OpPing, true, nil)
	f[1] = 0x80 | 126
	f = binary.BigEndian.AppendUint16(f[:2], uint16(ws.MaxControlPayload+1+g.r.IntN(1000)))
	return append(f, key[:]...)
}

// closePayload is a close frame's payload: a code, valid or not, and a
// reason, maybe too long or not UTF-8; or one byte; or nothing.
func (g *Gen) closePayload() []byte {
	switch g.r.IntN(6) {
	case 0:
		return nil
	case 1:
		return []byte{byte(g.r.Uint32())}
	}
	code := pick(g, []uint16{0, 999, 1000, 1001, 1004, 1005, 1006, 1011, 1015, 1016, 2999, 3000, 4000, 4999, 5000, 65535, uint16(g.r.Uint32())})
	reason := pick(g, []string{"", "bye", "\xff\xfe", strings.Repeat("r", ws.MaxCloseReason)})
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// text returns n bytes of random text, mostly valid UTF-8.
func (g *Gen) text(n int) string {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "{", "}", "é", "κ", "€", "😀", "\u0000", "\t"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pick(g, alphabet))
	}
	return b.String()
}
