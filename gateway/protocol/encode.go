package protocol

import (
	"strconv"
	"unsafe"

	"github.com/heraldhq/herald/channels"
)

// Message is one server-to-client event. Data is the event's data as a
// string, sent byte for byte (Pusher double-encodes: it goes on the wire
// as a JSON string literal); NoData omits the field.
type Message struct {
	Event   string
	Channel string
	Data    string
	// UserID is the top-level user_id of client events on presence
	// channels.
	UserID string
	// Serial is the message's stream sequence; 0 omits it.
	Serial uint64
	// NoData omits the data field.
	NoData bool
}

// AppendMessage appends m as one JSON text frame payload. It allocates only
// to grow dst, so a fan-out encodes once into a reused buffer.
func AppendMessage(dst []byte, m *Message) []byte {
	dst = append(dst, `{"event":`...)
	dst = AppendString(dst, m.Event)
	if m.Channel != "" {
		dst = append(dst, `,"channel":`...)
		dst = AppendString(dst, m.Channel)
	}
	if !m.NoData {
		dst = append(dst, `,"data":`...)
		dst = AppendString(dst, m.Data)
	}
	if m.UserID != "" {
		dst = append(dst, `,"user_id":`...)
		dst = AppendString(dst, m.UserID)
	}
	if m.Serial != 0 {
		dst = append(dst, `,"serial":`...)
		dst = strconv.AppendUint(dst, m.Serial, 10)
	}
	return append(dst, '}')
}

// BytesString views b as a string without copying. The caller must not
// modify b while the string is in use; it exists so that a message body
// read from NATS can be encoded without a copy.
func BytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// ConnectionEstablished builds the handshake event. Every new connection
// gets one, so it is built in two allocations: the inner object on the
// stack, copied once into the data string, and the frame sized up front.
func ConnectionEstablished(socketID string, activityTimeoutS int) []byte {
	var buf [connectionEstablishedInner]byte
	inner := append(buf[:0], `{"socket_id":`...)
	inner = AppendString(inner, socketID)
	inner = append(inner, `,"activity_timeout":`...)
	inner = strconv.AppendInt(inner, int64(activityTimeoutS), 10)
	inner = append(inner, '}')
	m := Message{Event: EventConnectionEstablished, Data: string(inner)}
	return AppendMessage(make([]byte, 0, connectionEstablishedFrame), &m)
}

// connectionEstablishedInner and connectionEstablishedFrame are room for
// the handshake event's data and whole payload with a socket id of two
// 20-digit numbers; a longer one only grows the buffers.
const (
	connectionEstablishedInner = 96
	connectionEstablishedFrame = 160
)

// Error builds a pusher:error event; a code of 0 omits the code.
func Error(code channels.WireCode, message string) []byte {
	inner := []byte(`{`)
	if code != 0 {
		inner = append(inner, `"code":`...)
		inner = strconv.AppendInt(inner, int64(code), 10)
		inner = append(inner, ',')
	}
	inner = append(inner, `"message":`...)
	inner = AppendString(inner, message)
	inner = append(inner, '}')
	return AppendMessage(nil, &Message{Event: EventError, Data: string(inner)})
}

// SubscriptionError builds a pusher:subscription_error for channel.
func SubscriptionError(channel, errType, message string, status int) []byte {
	inner := append([]byte(`{"type":`), strconv.Quote(errType)...)
	inner = append(inner, `,"error":`...)
	inner = AppendString(inner, message)
	inner = append(inner, `,"status":`...)
	inner = strconv.AppendInt(inner, int64(status), 10)
	inner = append(inner, '}')
	return AppendMessage(nil, &Message{Event: EventSubscriptionError, Channel: channel, Data: string(inner)})
}

// EmptyObject is the data of events that carry nothing ("{}").
const EmptyObject = "{}"

// Pong is the reply to pusher:ping.
func Pong() []byte { return AppendMessage(nil, &Message{Event: EventPong, Data: EmptyObject}) }

// Ping is the server's keep-alive probe.
func Ping() []byte { return AppendMessage(nil, &Message{Event: EventPing, Data: EmptyObject}) }

// SubscriptionSucceeded confirms a subscription; data is "{}" or, on
// presence channels, the roster JSON.
func SubscriptionSucceeded(channel, data string) []byte {
	return AppendMessage(nil, &Message{Event: EventSubscriptionSucceeded, Channel: channel, Data: data})
}
