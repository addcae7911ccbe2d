package ws

import (
	"encoding/binary"
	"unicode/utf8"
)

// DefaultMaxMessageSize is the largest message a Parser accepts when
// ParserConfig.MaxMessageSize is zero.
const DefaultMaxMessageSize = 64 << 10

// smallFrame is the size up to which a cut frame's buffer is allocated
// whole rather than grown with what arrives: one allocation for the common
// case, and a bound on what a client that announces a big frame and sends
// a few bytes can make a connection hold.
const smallFrame = 4 << 10

// ParserConfig configures a Parser. The zero value is usable.
type ParserConfig struct {
	// MaxMessageSize is the largest message, all fragments together, in
	// bytes. A frame that would make a message larger fails the
	// connection with CloseMessageTooBig as soon as its header announces
	// the length, before any of it is buffered. Zero means
	// DefaultMaxMessageSize.
	MaxMessageSize int
}

// Message is a complete message or control frame received from a client.
type Message struct {
	// Op is OpText, OpPing, OpPong or OpClose. Binary messages are refused
	// with CloseUnsupportedData and fragments are assembled, so no other
	// opcode appears.
	Op Opcode
	// Payload is the unmasked payload. It may alias the slice given to
	// Feed and is valid only until the next call to Feed or Next.
	Payload []byte
}

// CloseStatus returns the status code and reason of a close message, which
// the Parser has validated. The code is CloseNoStatus when the client sent
// none.
func (m Message) CloseStatus() (code uint16, reason string) {
	if len(m.Payload) < 2 {
		return CloseNoStatus, ""
	}
	return binary.BigEndian.Uint16(m.Payload), string(m.Payload[2:])
}

// Parser turns the bytes a client sends into messages, incrementally: Feed
// it whatever was read, then call Next until it reports that it needs more.
//
// A frame that arrives whole inside the fed slice is unmasked in place and
// returned without copying. Only a frame cut at the end of the fed bytes is
// copied, into a buffer that exists until the frame is complete, and only a
// fragmented message is assembled in a buffer of its own, released once
// the message is returned. An idle Parser therefore holds no buffer.
//
// Every violation of RFC 6455 is reported as a *ProtocolError carrying the
// close code to send; after an error, or after a close frame, the Parser
// returns nothing more. A Parser is not safe for concurrent use.
type Parser struct {
	max int

	// src is the unparsed rest of the slice given to Feed (borrowed).
	src []byte
	// pending holds the start of a frame that was cut at the end of the
	// fed bytes (owned; nil when no frame is incomplete).
	pending []byte
	// msg holds the fragments received so far of a fragmented message,
	// whose opcode is msgOp; checked bytes of it are known to be valid
	// UTF-8. msgOp is OpContinuation when no message is in progress.
	msg     []byte
	checked int
	err     error

	// units counts the frames and messages completed outside a
	// fragmented message: a change tells the poller that the incomplete
	// frame it sees now is a new one, whose read deadline starts afresh.
	units uint32
	msgOp Opcode
	// The small fields last: the Poller embeds a Parser in every
	// connection, and padding between them would cost each one 8 bytes.
	closed bool
}

// header is a parsed frame header.
type header struct {
	fin  bool
	op   Opcode
	key  [keySize]byte
	hlen int // bytes of header, masking key included
	plen int // payload length, already checked against the limits
}

// NewParser returns a Parser configured by cfg.
func NewParser(cfg ParserConfig) *Parser {
	p := &Parser{}
	p.init(cfg)
	return p
}

// init configures a zero Parser; the Poller embeds Parsers by value.
func (p *Parser) init(cfg ParserConfig) {
	p.max = cfg.MaxMessageSize
	if p.max <= 0 {
		p.max = DefaultMaxMessageSize
	}
}

// setMax changes the message size limit; the next frame header is checked
// against it. The Poller calls it between reads when Conn.SetMaxMessageSize
// changed the limit.
func (p *Parser) setMax(n int) {
	if n <= 0 {
		n = DefaultMaxMessageSize
	}
	p.max = n
}

// Pending reports whether part of a frame or of a fragmented message was
// received and the rest has not, with no error or close frame so far: a
// server gives such a connection FrameReadTimeout to complete it. Tools
// that predict the gateway's answer to a byte stream (internal/netfuzz)
// use it.
func (p *Parser) Pending() bool { return p.inProgress() }

// inProgress reports whether part of a frame or of a fragmented message
// was received and the rest has not: the Poller gives that a deadline.
func (p *Parser) inProgress() bool {
	return p.err == nil && !p.closed && (len(p.pending) > 0 || p.msgOp != OpContinuation)
}

// Feed gives the Parser the next bytes received from the client. The Parser
// borrows b and unmasks it in place: the caller must not modify or reuse b
// until Next has returned ok = false or an error. Feeding after an error or
// a close frame does nothing.
func (p *Parser) Feed(b []byte) {
	if p.err != nil || p.closed || len(b) == 0 {
		return
	}
	if len(p.src) > 0 {
		// The caller did not drain Next: keep the unparsed bytes first.
		// This copies, but a well-behaved caller never gets here.
		p.src = append(p.src[:len(p.src):len(p.src)], b...)
		return
	}
	p.src = b
}

// Next returns the next complete message. ok is false when the fed bytes
// hold no further complete message; the Parser has then kept what it needs
// of them and the caller may reuse the fed slice. err is a *ProtocolError
// when the client broke the protocol, and is returned again by every later
// call.
func (p *Parser) Next() (m Message, ok bool, err error) {
	if p.err != nil {
		return Message{}, false, p.err
	}
	if p.closed {
		p.src = nil
		return Message{}, false, nil
	}
	for {
		h, frame, ok, err := p.nextFrame()
		if err != nil {
			return Message{}, false, p.fail(err)
		}
		if !ok {
			return Message{}, false, nil
		}
		payload := frame[h.hlen:]
		maskBytes(h.key, 0, payload)
		m, ok, err := p.handle(h, payload)
		if err != nil {
			return Message{}, false, p.fail(err)
		}
		if ok {
			if p.msgOp == OpContinuation {
				p.units++
			}
			return m, true, nil
		}
		// A fragment that does not end its message: keep going.
	}
}

// fail records err and drops every buffer.
func (p *Parser) fail(err error) error {
	p.err = err
	p.src, p.pending, p.msg = nil, nil, nil
	return err
}

// nextFrame returns the next complete frame, from pending if a frame was
// cut, else straight from src. When no complete frame is left it keeps the
// incomplete rest in pending and returns ok = false.
func (p *Parser) nextFrame() (h header, frame []byte, ok bool, err error) {
	if len(p.pending) > 0 {
		return p.fillPending()
	}
	if len(p.src) == 0 {
		p.src = nil // do not pin the caller's buffer
		return h, nil, false, nil
	}
	h, ok, err = p.parseHeader(p.src)
	if err != nil {
		return h, nil, false, err
	}
	if ok && len(p.src) >= h.hlen+h.plen {
		n := h.hlen + h.plen
		frame, p.src = p.src[:n:n], p.src[n:]
		return h, frame, true, nil
	}
	// Cut frame: copy it (see appendPending for the sizing).
	need := MaxHeaderSize
	if ok {
		need = h.hlen + h.plen
	}
	p.appendPending(p.src, need)
	p.src = nil
	return h, nil, false, nil
}

// fillPending moves bytes from src to the cut frame in pending, no more than
// the frame needs, and returns the frame once it is complete.
func (p *Parser) fillPending() (h header, frame []byte, ok bool, err error) {
	for {
		h, ok, err = p.parseHeader(p.pending)
		if err != nil {
			return h, nil, false, err
		}
		need := headerNeed(p.pending)
		if ok {
			need = h.hlen + h.plen
			if len(p.pending) >= need {
				// pending holds exactly one frame; the returned payload
				// keeps its array alive only as long as the caller needs.
				frame, p.pending = p.pending, nil
				return h, frame, true, nil
			}
		}
		if len(p.src) == 0 {
			return h, nil, false, nil
		}
		take := min(need-len(p.pending), len(p.src))
		p.appendPending(p.src[:take], need)
		p.src = p.src[take:]
	}
}

// appendPending appends b to the cut frame. A small frame gets a buffer of
// its full size at once; a bigger one grows by doubling, never past need,
// the size of the frame (or of its header while the length is unknown).
func (p *Parser) appendPending(b []byte, need int) {
	if n := len(p.pending) + len(b); n > cap(p.pending) {
		size := max(n, min(need, 2*cap(p.pending)))
		if need <= smallFrame {
			size = need
		}
		grown := make([]byte, len(p.pending), size)
		copy(grown, p.pending)
		p.pending = grown
	}
	p.pending = append(p.pending, b...)
}

// headerNeed returns how many bytes b must hold to know the next part of an
// incomplete header: the two fixed bytes, then the whole header.
func headerNeed(b []byte) int {
	if len(b) < 2 {
		return 2
	}
	return 2 + extLen(b[1]&lenBits) + keySize
}

// extLen returns the size of the extended length field announced by the
// 7-bit length.
func extLen(len7 byte) int {
	switch len7 {
	case len7Ext16:
		return 2
	case len7Ext64:
		return 8
	}
	return 0
}

// parseHeader parses and checks the frame header at the start of b. ok is
// false when b is too short. Each check runs as soon as the bytes it needs
// are there, so a bad frame fails before the rest of it arrives.
func (p *Parser) parseHeader(b []byte) (h header, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	b0, b1 := b[0], b[1]
	if b0&rsvBits != 0 {
		return h, false, errReservedBits
	}
	h.op = Opcode(b0 & opBits)
	if !h.op.known() {
		return h, false, errReservedOpcode
	}
	h.fin = b0&finBit != 0
	if b1&maskBit == 0 {
		return h, false, errUnmasked
	}
	len7 := b1 & lenBits
	if err := p.checkOpcode(h, len7); err != nil {
		return h, false, err
	}
	ext := extLen(len7)
	if len(b) < 2+ext {
		return h, false, nil
	}
	var n uint64
	switch ext {
	case 0:
		n = uint64(len7)
	case 2:
		n = uint64(binary.BigEndian.Uint16(b[2:]))
	default:
		n = binary.BigEndian.Uint64(b[2:])
		if n>>63 != 0 {
			return h, false, errLength64
		}
	}
	// Checked on the header alone, so an oversized frame is refused before
	// any of its payload is buffered; the message's fragments so far
	// count, so a fragmented message cannot pass the limit either.
	if !h.op.IsControl() && n > uint64(max(p.max-len(p.msg), 0)) {
		return h, false, errMessageTooBig
	}
	h.plen = int(n)
	h.hlen = 2 + ext + keySize
	if len(b) < h.hlen {
		return h, false, nil
	}
	copy(h.key[:], b[2+ext:h.hlen])
	return h, true, nil
}

// checkOpcode checks what the first two header bytes say against the
// message in progress.
func (p *Parser) checkOpcode(h header, len7 byte) error {
	switch {
	case h.op.IsControl():
		if !h.fin {
			return errFragmentedCtl
		}
		if len7 > MaxControlPayload {
			return errControlTooLong
		}
	case h.op == OpContinuation:
		if p.msgOp == OpContinuation {
			return errUnexpectedCont
		}
	case p.msgOp != OpContinuation:
		return errExpectedCont
	case h.op == OpBinary:
		return errBinary
	}
	return nil
}

// handle interprets a complete, unmasked frame. ok is false for a fragment
// that does not end its message.
func (p *Parser) handle(h header, payload []byte) (m Message, ok bool, err error) {
	switch {
	case h.op == OpClose:
		if err := checkClosePayload(payload); err != nil {
			return m, false, err
		}
		// Nothing after a close frame is meaningful (RFC 6455 5.5.1).
		p.closed = true
		p.src, p.pending, p.msg = nil, nil, nil
		return Message{Op: h.op, Payload: payload}, true, nil
	case h.op.IsControl():
		return Message{Op: h.op, Payload: payload}, true, nil
	case h.op != OpContinuation && h.fin:
		// The common case: a whole message in one frame, not copied.
		if h.op == OpText && !utf8.Valid(payload) {
			return m, false, errInvalidUTF8
		}
		return Message{Op: h.op, Payload: payload}, true, nil
	}
	if h.op != OpContinuation {
		p.msgOp = h.op
	}
	p.growMsg(len(payload))
	p.msg = append(p.msg, payload...)
	if p.msgOp == OpText {
		n, valid := validUTF8Prefix(p.msg[p.checked:], h.fin)
		if !valid {
			return m, false, errInvalidUTF8
		}
		p.checked += n
	}
	if !h.fin {
		return m, false, nil
	}
	m = Message{Op: p.msgOp, Payload: p.msg}
	p.msg, p.msgOp, p.checked = nil, OpContinuation, 0
	return m, true, nil
}

// growMsg makes room for n more bytes of a fragmented message. It grows
// by doubling but never past the size limit, so that what a connection
// holds stays bounded by the limit rather than by append's growth policy:
// the message so far and a cut frame of its next fragment together hold
// at most twice the limit.
func (p *Parser) growMsg(n int) {
	need := len(p.msg) + n
	if need <= cap(p.msg) {
		return
	}
	size := min(max(need, 2*cap(p.msg)), max(p.max, need))
	grown := make([]byte, len(p.msg), size)
	copy(grown, p.msg)
	p.msg = grown
}

// checkClosePayload validates a close frame's payload: empty, or a status
// code a client may send followed by a UTF-8 reason.
func checkClosePayload(payload []byte) error {
	switch {
	case len(payload) == 0:
		return nil
	case len(payload) == 1:
		return errCloseLength
	case !validReceivedCloseCode(binary.BigEndian.Uint16(payload)):
		return errCloseCode
	case !utf8.Valid(payload[2:]):
		return errCloseReasonUTF8
	}
	return nil
}
