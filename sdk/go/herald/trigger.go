package herald

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
)

// IdempotencyKeyHeader makes a publish retry-safe: the server stores a
// message once per app, channel and key within its duplicate window, and
// answers a repeat with the first one's serial.
const IdempotencyKeyHeader = "Idempotency-Key"

// Channel attributes a publish or a channel query may ask for (info).
const (
	InfoUserCount         = "user_count"
	InfoSubscriptionCount = "subscription_count"
	// InfoCache is the cached event of a cache channel (Channel only).
	InfoCache = "cache"
)

// UserChannelPrefix starts a signed-in user's channel (SendToUser).
const UserChannelPrefix = "#server-to-user-"

// ErrNoMasterKey is a private-encrypted channel used by a client built
// without Config.EncryptionMasterKey.
var ErrNoMasterKey = errors.New("herald: private-encrypted channels need Config.EncryptionMasterKey")

// ErrEncryptedMultiple is a publish to an encrypted channel together with
// others: each encrypted channel has its own key, so it is published
// alone.
var ErrEncryptedMultiple = errors.New("herald: an encrypted channel must be the only channel of a publish")

// TriggerOption changes a Trigger.
type TriggerOption func(*triggerOptions)

type triggerOptions struct {
	socketID       string
	idempotencyKey string
	info           []string
}

// WithSocketID excludes the connection with this socket id (the
// publisher's own) from the delivery.
func WithSocketID(socketID string) TriggerOption {
	return func(o *triggerOptions) { o.socketID = socketID }
}

// WithIdempotencyKey makes the publish retry-safe (IdempotencyKeyHeader),
// so that the client retries it on failure. Trigger also sends it in the
// signed body, which stops a replay of the captured request. In
// TriggerBatch it covers every item that has no key of its own (as a
// header only: give each Event its IdempotencyKey to have it signed).
func WithIdempotencyKey(key string) TriggerOption {
	return func(o *triggerOptions) { o.idempotencyKey = key }
}

// WithInfo asks for the channels' attributes (InfoUserCount for presence
// channels, InfoSubscriptionCount) in the result.
func WithInfo(attributes ...string) TriggerOption {
	return func(o *triggerOptions) { o.info = attributes }
}

// ChannelInfo is a channel's attributes, as asked with info (0 when not
// asked).
type ChannelInfo struct {
	UserCount         int `json:"user_count,omitempty"`
	SubscriptionCount int `json:"subscription_count,omitempty"`
}

// TriggerResult is what a publish got.
type TriggerResult struct {
	// Serials is each channel's message serial: its position in the
	// app's stream, what history and a subscriber's resume read from.
	// Serials are app-wide, so a channel's serials increase with gaps
	// (the serials between went to other channels): serial+1 is not the
	// channel's next message.
	Serials map[string]uint64 `json:"serials"`
	// Channels are the channels' attributes, with WithInfo.
	Channels map[string]ChannelInfo `json:"channels,omitempty"`
}

// triggerBody is the body of POST /apps/{id}/events.
type triggerBody struct {
	Name     string   `json:"name"`
	Data     string   `json:"data"`
	Channels []string `json:"channels"`
	SocketID string   `json:"socket_id,omitempty"`
	Info     string   `json:"info,omitempty"`
	// IdempotencyKey repeats the header inside the signed body, where a
	// replay of the captured request cannot drop or change it.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Trigger publishes event with data to channels. data is sent as is when
// it is a string, []byte or json.RawMessage, and JSON-encoded otherwise;
// on a private-encrypted channel (which must be the only one) it is
// encrypted first. A publish is retried only WithIdempotencyKey.
func (c *Client) Trigger(ctx context.Context, channels []string, event string, data any, opts ...TriggerOption) (*TriggerResult, error) {
	var o triggerOptions
	for _, opt := range opts {
		opt(&o)
	}
	payload, err := c.eventData(channels, data)
	if err != nil {
		return nil, err
	}
	r := request{
		method: http.MethodPost, segments: []string{"events"},
		body: triggerBody{Name: event, Data: payload, Channels: channels, SocketID: o.socketID, Info: strings.Join(o.info, ","),
			IdempotencyKey: o.idempotencyKey},
	}
	if o.idempotencyKey != "" {
		r.header = http.Header{IdempotencyKeyHeader: {o.idempotencyKey}}
		r.idempotent = true
	}
	var res TriggerResult
	if err := c.do(ctx, r, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SendToUser publishes event to a signed-in user's connections, on the
// user's channel #server-to-user-{id} (docs/protocol.md, "Sign-in and the
// user channel").
func (c *Client) SendToUser(ctx context.Context, userID, event string, data any, opts ...TriggerOption) (*TriggerResult, error) {
	if userID == "" {
		return nil, errors.New("herald: SendToUser needs a user id")
	}
	return c.Trigger(ctx, []string{UserChannelPrefix + userID}, event, data, opts...)
}

// eventData renders data as the string an event carries, encrypted for a
// private-encrypted channel.
func (c *Client) eventData(channels []string, data any) (string, error) {
	s, err := dataString(data)
	if err != nil {
		return "", err
	}
	for _, ch := range channels {
		if !isEncrypted(ch) {
			continue
		}
		if len(channels) > 1 {
			return "", ErrEncryptedMultiple
		}
		if c.cfg.EncryptionMasterKey == nil {
			return "", ErrNoMasterKey
		}
		out, err := encrypted.Seal(ch, c.cfg.EncryptionMasterKey, []byte(s))
		if err != nil {
			return "", fmt.Errorf("herald: %w", err)
		}
		return out, nil
	}
	return s, nil
}

// dataString is data as an event's data string.
func dataString(data any) (string, error) {
	switch d := data.(type) {
	case string:
		return d, nil
	case []byte:
		return string(d), nil
	case json.RawMessage:
		return string(d), nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("herald: encode data: %w", err)
	}
	return string(b), nil
}

func isEncrypted(channel string) bool {
	return strings.HasPrefix(channel, encrypted.ChannelPrefix)
}
