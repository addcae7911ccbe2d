package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// PusherTimeout bounds each wait of a PusherClient.
const PusherTimeout = 10 * time.Second

// Event is a decoded server-to-client Pusher event.
type Event struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    string          `json:"data"`
	UserID  string          `json:"user_id"`
	Serial  uint64          `json:"serial"`
	Raw     json.RawMessage `json:"-"`
}

// DecodeData unmarshals the (double-encoded) data.
func (e Event) DecodeData(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(e.Data), v); err != nil {
		tb.Fatalf("data of %s is not JSON: %v (%q)", e.Event, err, e.Data)
	}
}

// Closed is what ended a connection: the close code the server sent.
type Closed struct{ Code uint16 }

func (c Closed) Error() string { return fmt.Sprintf("closed with %d", c.Code) }

// PusherClient is a minimal Pusher protocol client over a raw WebSocket,
// for Go end-to-end tests.
type PusherClient struct {
	tb       testing.TB
	c        *wstest.Client
	SocketID string
	// ActivityTimeout is the handshake's activity_timeout.
	ActivityTimeout int
}

// DialPusher connects to baseURL (http://host:port) with app key key and
// waits for pusher:connection_established. query overrides the default
// "protocol=7"; header adds request headers (Origin, …).
func DialPusher(tb testing.TB, baseURL, key string, query string, header http.Header) (*PusherClient, error) {
	tb.Helper()
	if query == "" {
		query = "protocol=7&client=go-test&version=1"
	}
	u := strings.Replace(baseURL, "http://", "ws://", 1) + "/app/" + key + "?" + query
	ctx, cancel := context.WithTimeout(context.Background(), PusherTimeout)
	defer cancel()
	c, err := wstest.Dial(ctx, u, header)
	if err != nil {
		return nil, err
	}
	return startPusher(tb, c)
}

// startPusher waits for the handshake event on a new connection.
func startPusher(tb testing.TB, c *wstest.Client) (*PusherClient, error) {
	tb.Helper()
	p := &PusherClient{tb: tb, c: c}
	tb.Cleanup(func() { _ = c.Close() })
	e, err := p.Next()
	if err != nil {
		return nil, err
	}
	switch e.Event {
	case protocol.EventConnectionEstablished:
		var d struct {
			SocketID        string `json:"socket_id"`
			ActivityTimeout int    `json:"activity_timeout"`
		}
		e.DecodeData(tb, &d)
		p.SocketID, p.ActivityTimeout = d.SocketID, d.ActivityTimeout
		return p, nil
	case protocol.EventError:
		var d struct{ Code int }
		e.DecodeData(tb, &d)
		_, err := p.Next()
		return p, fmt.Errorf(protocol.EventError+" %d then %w", d.Code, err)
	}
	return nil, fmt.Errorf("unexpected first event %s", e.Event)
}

// MustDialPusher is DialPusher that fails the test on error.
func MustDialPusher(tb testing.TB, baseURL, key string) *PusherClient {
	tb.Helper()
	p, err := DialPusher(tb, baseURL, key, "", nil)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return p
}

// Next reads the next event. A close frame ends the connection with a
// Closed error.
func (p *PusherClient) Next() (Event, error) {
	_ = p.c.SetDeadline(time.Now().Add(PusherTimeout))
	for {
		op, payload, err := p.c.ReadMessage()
		if err != nil {
			return Event{}, err
		}
		switch op {
		case ws.OpClose:
			code := uint16(0)
			if len(payload) >= 2 {
				code = uint16(payload[0])<<8 | uint16(payload[1])
			}
			return Event{}, Closed{Code: code}
		case ws.OpText:
			var e Event
			if err := json.Unmarshal(payload, &e); err != nil {
				return Event{}, fmt.Errorf("server frame is not JSON: %w (%q)", err, payload)
			}
			e.Raw = append(json.RawMessage(nil), payload...)
			return e, nil
		}
	}
}

// Expect reads events until one named event arrives on channel ("" for
// any), failing the test on a close or timeout. Events in between are
// returned too, for assertions about what must not have come.
func (p *PusherClient) Expect(event, channel string) (Event, []Event) {
	p.tb.Helper()
	var skipped []Event
	for {
		e, err := p.Next()
		if err != nil {
			p.tb.Fatalf("waiting for %s on %q: %v (skipped %v)", event, channel, err, names(skipped))
		}
		if e.Event == event && (channel == "" || e.Channel == channel) {
			return e, skipped
		}
		skipped = append(skipped, e)
	}
}

// ExpectClose reads until the server closes and returns the close code.
func (p *PusherClient) ExpectClose() uint16 {
	p.tb.Helper()
	for {
		_, err := p.Next()
		var cl Closed
		if errors.As(err, &cl) {
			return cl.Code
		}
		if err != nil {
			p.tb.Fatalf("waiting for close: %v", err)
		}
	}
}

// ExpectNothing fails if an event (other than pings) arrives within d.
func (p *PusherClient) ExpectNothing(d time.Duration) {
	p.tb.Helper()
	_ = p.c.SetDeadline(time.Now().Add(d))
	for {
		op, payload, err := p.c.ReadMessage()
		if err != nil {
			return // the deadline passed
		}
		if op == ws.OpText && !strings.Contains(string(payload), `"`+protocol.EventPing+`"`) {
			p.tb.Fatalf("unexpected frame: %s", payload)
		}
	}
}

// Send sends an event with data (an object, marshalled as pusher-js does).
func (p *PusherClient) Send(event, channel string, data any) {
	p.tb.Helper()
	m := map[string]any{"event": event, "data": data}
	if channel != "" {
		m["channel"] = channel
	}
	b, _ := json.Marshal(m)
	_ = p.c.SetDeadline(time.Now().Add(PusherTimeout))
	if err := p.c.WriteText(string(b)); err != nil {
		p.tb.Fatalf("send %s: %v", event, err)
	}
}

// SendRaw sends one text frame as is.
func (p *PusherClient) SendRaw(s string) {
	p.tb.Helper()
	_ = p.c.SetDeadline(time.Now().Add(PusherTimeout))
	if err := p.c.WriteText(s); err != nil {
		p.tb.Fatalf("send: %v", err)
	}
}

// WS returns the raw WebSocket client.
func (p *PusherClient) WS() *wstest.Client { return p.c }

// Subscribe sends pusher:subscribe signed with key/secret when the
// channel needs it (channelData for presence) and returns the
// subscription_succeeded or subscription_error event.
func (p *PusherClient) Subscribe(channel, key, secret, channelData string) Event {
	p.tb.Helper()
	data := map[string]any{"channel": channel, "auth": ""}
	ch, err := channels.ParseChannel(channel)
	if err == nil && ch.NeedsAuth() && ch.Kind != channels.KindUser && secret != "" {
		data["auth"] = channels.SignAuth(key, secret, channels.ChannelStringToSign(p.SocketID, channel, channelData))
	}
	if channelData != "" {
		data["channel_data"] = channelData
	}
	p.Send(protocol.EventSubscribe, "", data)
	for {
		e, err := p.Next()
		if err != nil {
			p.tb.Fatalf("subscribe %s: %v", channel, err)
		}
		if (e.Event == protocol.EventSubscriptionSucceeded || e.Event == protocol.EventSubscriptionError) && e.Channel == channel {
			return e
		}
	}
}

// Signin signs the connection in as userData (a JSON object with an id).
func (p *PusherClient) Signin(key, secret, userData string) {
	p.tb.Helper()
	p.Send(protocol.EventSignin, "", map[string]any{
		"auth":      channels.SignAuth(key, secret, channels.UserStringToSign(p.SocketID, userData)),
		"user_data": userData,
	})
	p.Expect(protocol.EventSigninSuccess, "")
}

func names(es []Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Event
	}
	return out
}
