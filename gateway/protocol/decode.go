package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/heraldhq/herald/channels"
)

// Decoding errors; the gateway answers them with pusher:error.
var (
	ErrInvalidJSON  = errors.New("frame is not a JSON object")
	ErrMissingEvent = errors.New("frame has no event name")
	ErrInvalidData  = errors.New("event data has the wrong shape")
	// ErrNoChannel: subscribe or unsubscribe data without a channel, or
	// with a null one. It is malformed data, not a channel to refuse:
	// a subscription_error without a channel reaches no client handler.
	ErrNoChannel = errors.New("event data has no channel")
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
		return fmt.Errorf("%w: %w", ErrInvalidData, err)
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
// resume and rewind fields. Those decode whatever value they hold, so that
// a wrong one is refused on its channel rather than hiding the channel.
type Subscribe struct {
	Channel     string    `json:"channel"`
	Auth        RawString `json:"auth"`
	ChannelData RawString `json:"channel_data"`
	ResumeFrom  Count     `json:"resume_from"`
	Rewind      Count     `json:"rewind"`
	RewindMs    Count     `json:"rewind_ms"`
}

// UnmarshalJSON implements json.Unmarshaler: the channel is required
// (ErrNoChannel).
func (s *Subscribe) UnmarshalJSON(b []byte) error {
	type fields Subscribe // without this method
	var v struct {
		fields
		Channel *string `json:"channel"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Channel == nil {
		return ErrNoChannel
	}
	*s = Subscribe(v.fields)
	s.Channel = *v.Channel
	return nil
}

// Count is an optional non-negative integer field. Decoding it never
// fails: Invalid marks any other value (a string, a negative or
// fractional number, one with an exponent such as 1e300, an object...),
// for the caller to refuse by name. A missing field and null are unset.
type Count struct {
	Set     bool
	Invalid bool
	// Saturated marks an integer above the largest uint64; N is then
	// math.MaxUint64.
	Saturated bool
	N         uint64
}

// UnmarshalJSON implements json.Unmarshaler; it accepts only plain JSON
// integers (digits), which are what JavaScript prints for every
// non-negative integer below 1e21.
func (c *Count) UnmarshalJSON(b []byte) error {
	*c = Count{}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	c.Set = true
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		c.Invalid = true
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	switch {
	case err == nil:
		c.N = n
	case errors.Is(err, strconv.ErrRange):
		c.N, c.Saturated = math.MaxUint64, true
	default:
		c.Invalid = true
	}
	return nil
}

// Unsubscribe is the data of pusher:unsubscribe.
type Unsubscribe struct {
	Channel string `json:"channel"`
}

// UnmarshalJSON implements json.Unmarshaler: the channel is required
// (ErrNoChannel).
func (u *Unsubscribe) UnmarshalJSON(b []byte) error {
	var v struct {
		Channel *string `json:"channel"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Channel == nil {
		return ErrNoChannel
	}
	u.Channel = *v.Channel
	return nil
}

// Signin is the data of pusher:signin.
type Signin struct {
	Auth     RawString `json:"auth"`
	UserData RawString `json:"user_data"`
}

// PresenceData is the decoded channel_data of a presence subscription.
// user_id may be a number (Laravel); UserID holds it as a string (see
// channels.ParseUserID).
type PresenceData struct {
	UserID   string
	UserInfo json.RawMessage
}

// ParsePresenceData decodes channel_data. A bad user_id is reported with
// channels.ParseUserID's errors, anything else as ErrInvalidData.
func ParsePresenceData(s string) (PresenceData, error) {
	var raw struct {
		UserID   json.RawMessage `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return PresenceData{}, ErrInvalidData
	}
	id, err := channels.ParseUserID(raw.UserID)
	if err != nil {
		return PresenceData{}, err
	}
	return PresenceData{UserID: id, UserInfo: raw.UserInfo}, nil
}
