package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Protocol event names (docs/protocol.md, "Vocabulary").
const (
	evConnectionEstablished = "pusher:connection_established"
	evError                 = "pusher:error"
	evPing                  = "pusher:ping"
	evPong                  = "pusher:pong"
	evSubscribe             = "pusher:subscribe"
	evUnsubscribe           = "pusher:unsubscribe"
	evSignin                = "pusher:signin"
	evSigninSuccess         = "pusher:signin_success"
	evSubscriptionError     = "pusher:subscription_error"
	evCacheMiss             = "pusher:cache_miss"
	evSubscriptionSucceeded = "pusher_internal:subscription_succeeded"
	evMemberAdded           = "pusher_internal:member_added"
	evMemberRemoved         = "pusher_internal:member_removed"
	evSubscriptionCount     = "pusher_internal:subscription_count"
	evPublish               = "herald:publish"
	evAck                   = "herald_internal:ack"
	evNack                  = "herald_internal:nack"
	evRefresh               = "herald:refresh"
	evTokenExpiring         = "herald_internal:token_expiring"
	evTokenRefreshed        = "herald_internal:token_refreshed"
	evResumeResult          = "herald_internal:resume_result"
)

// frame is one protocol message. Server frames carry data as a JSON string
// (Pusher's double encoding); client frames may carry any JSON value.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	UserID  string          `json:"user_id,omitempty"`
	Serial  uint64          `json:"serial,omitempty"`
}

var errNoEvent = errors.New("frame has no event")

// decodeFrame parses a server frame.
func decodeFrame(b []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("decode frame: %w", err)
	}
	if f.Event == "" {
		return frame{}, errNoEvent
	}
	return f, nil
}

// encodeFrame builds a client frame; data is marshalled as JSON, except a
// json.RawMessage, which is sent as it is.
func encodeFrame(event, channel string, data any) ([]byte, error) {
	f := frame{Event: event, Channel: channel}
	if data != nil {
		raw, err := marshalData(data)
		if err != nil {
			return nil, err
		}
		f.Data = raw
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", event, err)
	}
	return b, nil
}

func marshalData(data any) (json.RawMessage, error) {
	if raw, ok := data.(json.RawMessage); ok {
		if !json.Valid(raw) {
			return nil, errors.New("data is not valid JSON")
		}
		return raw, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("marshal data: %w", err)
	}
	return b, nil
}

// payload is a server frame's data as the publisher sent it: the content
// of the JSON string, or the raw JSON when it is not a string.
func (f frame) payload() []byte {
	if len(f.Data) == 0 {
		return nil
	}
	var s string
	if f.Data[0] == '"' && json.Unmarshal(f.Data, &s) == nil {
		return []byte(s)
	}
	return []byte(f.Data)
}

// decodeData reads an internal frame's data (an object, usually encoded
// as a string) into v.
func (f frame) decodeData(v any) error {
	if err := json.Unmarshal(f.payload(), v); err != nil {
		return fmt.Errorf("decode %s data: %w", f.Event, err)
	}
	return nil
}
