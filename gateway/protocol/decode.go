package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Decoding errors; the gateway answers them with pusher:error.
var (
	ErrInvalidJSON  = errors.New("frame is not a JSON object")
	ErrMissingEvent = errors.New("frame has no event name")
	ErrInvalidData  = errors.New("event data has the wrong shape")
)

// Frame is a decoded client-to-server event. Data is kept raw: clients
// send it as an object (pusher-js) or as a JSON-encoded string.
type Frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Decode parses one client text frame.
func Decode(b []byte) (Frame, error) {
	var f Frame
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Frame{}, ErrInvalidJSON
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if f.Event == "" {
		return Frame{}, ErrMissingEvent
	}
	return f, nil
}

// DataString returns the event data as the string to forward: the content
// of a JSON string, or the raw JSON text of any other value. Missing data
// is "".
func (f *Frame) DataString() (string, error) {
	d := bytes.TrimSpace(f.Data)
	if len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return "", nil
	}
	if d[0] == '"' {
		var s string
		if err := json.Unmarshal(d, &s); err != nil {
			return "", ErrInvalidData
		}
		return s, nil
	}
	return string(d), nil
}

// DecodeData unmarshals the event data into v, whether it was sent as an
// object or as a JSON string holding an object.
func (f *Frame) DecodeData(v any) error {
	d := bytes.TrimSpace(f.Data)
	if len(d) > 0 && d[0] == '"' {
		var s string
		if err := json.Unmarshal(d, &s); err != nil {
			return ErrInvalidData
		}
		d = []byte(s)
	}
	if len(d) == 0 || d[0] != '{' {
		return ErrInvalidData
	}
	if err := json.Unmarshal(d, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidData, err)
	}
	return nil
}

// RawString is a JSON field that clients send as a string but that may
// arrive as another JSON value; it keeps the string's content, or the raw
// text of anything else, so that signatures are checked against exactly
// what the client signed.
type RawString string

// UnmarshalJSON implements json.Unmarshaler.
func (r *RawString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = RawString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*r = ""
		return nil
	}
	*r = RawString(b)
	return nil
}

// Subscribe is the data of pusher:subscribe, with Herald's optional
// resume and rewind fields.
type Subscribe struct {
	Channel     string    `json:"channel"`
	Auth        RawString `json:"auth"`
	ChannelData RawString `json:"channel_data"`
	ResumeFrom  *uint64   `json:"resume_from,omitempty"`
	Rewind      *int      `json:"rewind,omitempty"`
	RewindMs    *int64    `json:"rewind_ms,omitempty"`
}

// Unsubscribe is the data of pusher:unsubscribe.
type Unsubscribe struct {
	Channel string `json:"channel"`
}

// Signin is the data of pusher:signin.
type Signin struct {
	Auth     RawString `json:"auth"`
	UserData RawString `json:"user_data"`
}

// PresenceData is the decoded channel_data of a presence subscription.
// user_id may be a number (Laravel); UserID holds it as a string.
type PresenceData struct {
	UserID   string
	UserInfo json.RawMessage
}

// ParsePresenceData decodes channel_data.
func ParsePresenceData(s string) (PresenceData, error) {
	var raw struct {
		UserID   json.RawMessage `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return PresenceData{}, ErrInvalidData
	}
	id, err := stringOrNumber(raw.UserID)
	if err != nil || id == "" {
		return PresenceData{}, ErrInvalidData
	}
	return PresenceData{UserID: id, UserInfo: raw.UserInfo}, nil
}

// stringOrNumber reads a JSON string or number as a string.
func stringOrNumber(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", ErrInvalidData
	}
	if b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}
