package sse

import (
	"strconv"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// Event is one channel message for a stream.
type Event struct {
	// Name is the message's event name, the SSE event: field.
	Name string
	// Payload is the message's Pusher JSON, the data: field. It is shared
	// by every stream of a fan-out: read-only.
	Payload []byte
	// Serial is the message's stream sequence; 0 marks a protocol event,
	// which a stream does not carry.
	Serial uint64
	// AtMs is when the message was published (Unix ms); 0: when written.
	AtMs int64
}

// AppendEvent appends e as an SSE event: id (the cursor), event name and
// data. nowMs stands in for a missing AtMs. It does not allocate beyond
// growing dst.
func AppendEvent(dst []byte, e *Event, nowMs int64) []byte {
	at := e.AtMs
	if at == 0 {
		at = nowMs
	}
	dst = append(dst, "id: "...)
	dst = Cursor{Serial: e.Serial, AtMs: at}.Append(dst)
	dst = append(dst, "\nevent: "...)
	dst = appendField(dst, e.Name)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, e.Payload...) // JSON: no raw newlines
	return append(dst, "\n\n"...)
}

// AppendUnnumbered appends an event without an id: one that is not a
// channel message and cannot be resumed from (resume_result, the final
// error). data must hold no newline (JSON does not).
func AppendUnnumbered(dst []byte, name, data string) []byte {
	dst = append(dst, "event: "...)
	dst = appendField(dst, name)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

// ErrorEvent is the pusher:error event that ends a stream, as a WebSocket
// client would get it before its close frame.
func ErrorEvent(code channels.WireCode, message string) []byte {
	d := append([]byte(`{"code":`), strconv.AppendInt(nil, int64(code), 10)...)
	d = append(d, `,"message":`...)
	d = protocol.AppendString(d, message)
	d = append(d, '}')
	return AppendUnnumbered(nil, protocol.EventError, string(d))
}

// Heartbeat is the comment line that keeps proxies from closing an idle
// stream.
const Heartbeat = ": heartbeat\n\n"

// appendField appends a field value with line breaks replaced by spaces:
// a newline would end the field and start another.
func appendField(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; b {
		case '\n', '\r':
			dst = append(dst, ' ')
		default:
			dst = append(dst, b)
		}
	}
	return dst
}
