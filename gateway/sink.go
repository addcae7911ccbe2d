package gateway

import (
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/sse"
)

// sink is a connection's transport, the seam between the fan-out and the
// wire. A fan-out encodes a message once, into a heldFrame (the WebSocket
// frame holding its Pusher JSON, and its event name), and hands that to
// every subscriber's sink: the WebSocket sink queues the frame as is, the
// SSE sink queues its payload and name for the stream (gateway/sse). The
// connection's queueing and close paths know nothing else of transports.
type sink interface {
	// queueLocked queues h; c.mu is held. ok says it was queued; start
	// that the caller must start c.writer once c.mu is released; slow
	// that the client just turned out to be a slow consumer (and is
	// being closed).
	queueLocked(c *conn, h heldFrame) (ok, start, slow bool)
	// cutShort drops a slow consumer's write in progress, once c.mu is
	// released.
	cutShort(c *conn)
	// closeAfter ends the connection: payload (a pusher:error, or nil)
	// says why, code and reason are the WebSocket close's.
	closeAfter(c *conn, payload []byte, code uint16, reason string)
	// protocolEvents reports whether the transport carries the
	// protocol's own events (pings, token notices), not only channel
	// messages.
	protocolEvents() bool
	// transport names the transport in debug events.
	transport() string
}

// wsSink is the WebSocket transport: the connection's send queue, written
// by its writer goroutine (conn.go).
type wsSink struct{}

func (wsSink) queueLocked(c *conn, h heldFrame) (ok, start, slow bool) {
	return c.enqueueLocked(h)
}

// cutShort cuts the write in progress short at a frame boundary, so that
// the close frame goes next, as soon as the client's socket takes it,
// instead of after the dropped backlog.
func (wsSink) cutShort(c *conn) { c.sock().InterruptWrite() }

func (wsSink) closeAfter(c *conn, payload []byte, code uint16, reason string) {
	c.closeAfterWS(payload, code, reason)
}

func (wsSink) protocolEvents() bool { return true }

func (wsSink) transport() string { return transportWS }

// sseSink is the transport of a Server-Sent Events connection: frames go
// to the stream that the request's goroutine writes.
type sseSink struct{ stream *sse.Stream }

// queueLocked queues a channel message; protocol events (no serial) have
// no place in an SSE stream.
func (s sseSink) queueLocked(_ *conn, h heldFrame) (ok, start, slow bool) {
	if h.serial == 0 {
		return false, false, false
	}
	if !s.stream.Offer(h.sseEvent()) {
		s.stream.End()
		return false, false, true
	}
	return true, false, false
}

// cutShort has nothing to do: the stream ended when it was found slow.
func (sseSink) cutShort(*conn) {}

func (s sseSink) closeAfter(_ *conn, payload []byte, code uint16, reason string) {
	if payload != nil {
		// A fatal error (not a shutdown) tells the client why.
		s.stream.Finish(sseError(payload, code, reason))
	}
	s.stream.End()
}

// sseError is a fatal pusher:error as an SSE stream carries it: the data
// the WebSocket would get, so that its extensions (terminate's "reason")
// reach SSE clients too, or one made of code and reason when payload is
// not a pusher:error. Only a connection's last event is built here.
func sseError(payload []byte, code uint16, reason string) []byte {
	if f, err := protocol.Decode(payload); err == nil && f.Event == protocol.EventError {
		if d, err := f.DataString(); err == nil && d != "" {
			return sse.AppendUnnumbered(nil, protocol.EventError, d)
		}
	}
	return sse.ErrorEvent(channels.WireCode(code), reason)
}

func (sseSink) protocolEvents() bool { return false }

func (sseSink) transport() string { return transportSSE }

// sseEvent is h as an SSE stream carries it: the payload of its frame,
// found from the frame's header (nothing is decoded), and its name.
func (h *heldFrame) sseEvent() sse.Event {
	return sse.Event{Name: h.event, Payload: framePayload(h.frame), Serial: h.serial, AtMs: h.atMs}
}

// framePayload returns the payload of an unmasked server frame built by
// ws.AppendFrame (encodeFrame).
func framePayload(frame []byte) []byte {
	if len(frame) < 2 {
		return nil
	}
	switch n := frame[1] & 0x7f; {
	case n < 126:
		return frame[2:]
	case n == 126:
		return frame[4:]
	default:
		return frame[10:]
	}
}
