package ws

import "strconv"

// Opcode is the 4-bit frame type of RFC 6455 section 5.2.
type Opcode byte

// Opcodes of RFC 6455 section 11.8. The others are reserved and fail the
// connection with CloseProtocolError when a client sends them.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control frame opcode (close, ping, pong
// or a reserved control opcode): those cannot be fragmented and carry at
// most MaxControlPayload bytes.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// String returns the opcode's name, for logs and test failures.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(op)) + ")"
}

// known reports whether op is defined by RFC 6455.
func (op Opcode) known() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// Close status codes of RFC 6455 section 7.4.1 that Herald sends or
// receives. Application codes (Pusher's 4000-4999) are plain numbers passed
// through unchanged.
const (
	// CloseNormal is a normal closure.
	CloseNormal uint16 = 1000
	// CloseGoingAway is sent when the server shuts down.
	CloseGoingAway uint16 = 1001
	// CloseProtocolError is sent when the client breaks RFC 6455.
	CloseProtocolError uint16 = 1002
	// CloseUnsupportedData is sent when the client sends a binary message.
	CloseUnsupportedData uint16 = 1003
	// CloseNoStatus is never sent: CloseError reports it when the client's
	// close frame carried no status code.
	CloseNoStatus uint16 = 1005
	// CloseAbnormal is never sent on the wire; it names a connection that
	// ended without a close frame.
	CloseAbnormal uint16 = 1006
	// CloseInvalidPayload is sent when a text message is not valid UTF-8.
	CloseInvalidPayload uint16 = 1007
	// ClosePolicyViolation is a generic refusal.
	ClosePolicyViolation uint16 = 1008
	// CloseMessageTooBig is sent when a message exceeds the configured
	// maximum size.
	CloseMessageTooBig uint16 = 1009
	// CloseInternalError is sent when the server fails unexpectedly.
	CloseInternalError uint16 = 1011
)

// validReceivedCloseCode reports whether a client may send code in a close
// frame (RFC 6455 section 7.4 and the IANA registry): 1004-1006 and 1015 are
// reserved for local use, 1016-2999 are unassigned, 3000-4999 belong to
// libraries and applications.
func validReceivedCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
