package ws

import (
	"errors"
	"strconv"
)

// Sentinel errors callers branch on.
var (
	// ErrBadHandshake is returned (wrapped, with the reason) by Upgrade when
	// the request is not a valid WebSocket handshake; Upgrade has already
	// answered the client with a 4xx status.
	ErrBadHandshake = errors.New("ws: bad handshake")
	// ErrClosed is returned by writes on a connection that is closing or
	// closed, and passed to Handler.OnClose when the server closed the
	// connection with Conn.Close.
	ErrClosed = errors.New("ws: connection closed")
	// ErrPollerClosed is returned by Poller.Add and Poller.Run after the
	// poller shut down, and passed to Handler.OnClose for the connections
	// the shutdown closed.
	ErrPollerClosed = errors.New("ws: poller closed")
	// ErrUnsupportedConn is returned by the epoll Poller's Add for a
	// connection that does not expose its file descriptor (syscall.Conn)
	// and is not a *tls.Conn (which the poller bridges). The portable
	// transport takes any net.Conn.
	ErrUnsupportedConn = errors.New("ws: connection has no file descriptor")
	// ErrInterrupted is returned by writes after Conn.InterruptWrite, and
	// by a write that Conn.Close cut short: the connection is closing.
	ErrInterrupted = errors.New("ws: write interrupted")

	// errWouldBlock is writeNonblock's: the socket took nothing.
	errWouldBlock = errors.New("ws: socket buffer full")
)

// ProtocolError reports a client that broke RFC 6455 or a configured limit.
// Code is the close code to send before closing the connection.
type ProtocolError struct {
	Code   uint16
	Reason string
}

// Error returns the reason with its close code.
func (e *ProtocolError) Error() string {
	return "ws: " + e.Reason + " (close " + strconv.Itoa(int(e.Code)) + ")"
}

// CloseError reports a close frame sent by the client. Code is CloseNoStatus
// when the frame carried no status code.
type CloseError struct {
	Code   uint16
	Reason string
}

// Error returns the client's close code and reason.
func (e *CloseError) Error() string {
	s := "ws: closed by client (" + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	return s + ")"
}

// The parser's errors. They are values, never modified, so one instance of
// each is shared by every connection.
var (
	errReservedBits    = &ProtocolError{CloseProtocolError, "reserved bits set"}
	errReservedOpcode  = &ProtocolError{CloseProtocolError, "reserved opcode"}
	errUnmasked        = &ProtocolError{CloseProtocolError, "client frame not masked"}
	errFragmentedCtl   = &ProtocolError{CloseProtocolError, "fragmented control frame"}
	errControlTooLong  = &ProtocolError{CloseProtocolError, "control frame too long"}
	errLength64        = &ProtocolError{CloseProtocolError, "64-bit length with the high bit set"}
	errUnexpectedCont  = &ProtocolError{CloseProtocolError, "continuation without a message"}
	errExpectedCont    = &ProtocolError{CloseProtocolError, "new message inside a fragmented message"}
	errCloseLength     = &ProtocolError{CloseProtocolError, "close frame with a 1-byte payload"}
	errCloseCode       = &ProtocolError{CloseProtocolError, "invalid close code"}
	errBinary          = &ProtocolError{CloseUnsupportedData, "binary messages are not supported"}
	errInvalidUTF8     = &ProtocolError{CloseInvalidPayload, "text is not valid UTF-8"}
	errCloseReasonUTF8 = &ProtocolError{CloseInvalidPayload, "close reason is not valid UTF-8"}
	errMessageTooBig   = &ProtocolError{CloseMessageTooBig, "message too big"}
)

// errFrameTimeout is the cause passed to OnClose, and the close sent, when
// a frame did not complete within FrameReadTimeout.
var errFrameTimeout = &ProtocolError{ClosePolicyViolation, "frame read timeout"}
