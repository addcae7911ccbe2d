package stream

import "github.com/heraldhq/herald/channels"

// Headers Herald sets on every stored message. The body is the event's
// data, byte for byte.
const (
	// HeaderMsgID is JetStream's idempotency key.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderEvent is the event name.
	HeaderEvent = "Herald-Event"
	// HeaderExclude is the socket id the message must not be delivered to
	// (Pusher's socket_id on publish, the sender of a client event).
	HeaderExclude = "Herald-Exclude"
	// HeaderUser is the user id of the sender of a client event on a
	// presence channel.
	HeaderUser = "Herald-User"
	// HeaderSource says who published the message (a Source).
	HeaderSource = "Herald-Source"
)

// Source says who published a message: cache channels keep only API
// events, and webhooks report client events.
type Source string

// Sources.
const (
	// SourceAPI marks messages published through the HTTP API.
	SourceAPI Source = "api"
	// SourceClient marks client events and acked client publishes.
	SourceClient Source = "client"
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool { return s == SourceAPI || s == SourceClient }

// validHeaderValue reports whether v survives a trip through a NATS
// header unchanged: nats.go trims surrounding whitespace and turns CR and
// LF into spaces, and control characters have no place in these values.
func validHeaderValue(v string) bool {
	if v == "" {
		return true
	}
	if isSpace(v[0]) || isSpace(v[len(v)-1]) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return false
		}
	}
	return true
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// validate checks what Publish needs of a message; it does not repeat the
// protocol-level validation of channel names (the callers have done it).
func (m *Message) validate() error {
	if err := channels.ValidateAppID(m.AppID); err != nil {
		return err
	}
	if m.Channel == "" {
		return channels.BadRequest("channel", "channel name is empty")
	}
	if err := channels.ValidateEventName(m.Event); err != nil {
		return err
	}
	if !validHeaderValue(m.Event) {
		return channels.BadRequest("name", "event name has surrounding whitespace or control characters")
	}
	if !validHeaderValue(m.ExcludeSocket) {
		return channels.BadRequest("socket_id", "socket id has surrounding whitespace or control characters")
	}
	if !validHeaderValue(m.UserID) {
		return channels.BadRequest("user_id", "user id has surrounding whitespace or control characters")
	}
	if !m.Source.Valid() {
		return channels.BadRequest("source", "unknown message source")
	}
	if !validHeaderValue(m.MsgID) {
		return channels.BadRequest("idempotency_key", "idempotency key has surrounding whitespace or control characters")
	}
	return nil
}
