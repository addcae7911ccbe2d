package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// DefaultTimeout bounds a dial, a handshake and each wait for an answer.
const DefaultTimeout = 10 * time.Second

// Closed is the error of a connection the server closed with a close
// frame; Code is 0 when the frame had no status.
type Closed struct{ Code uint16 }

func (c Closed) Error() string { return fmt.Sprintf("closed with %d", c.Code) }

// ErrRefused is wrapped by Subscribe when the server answers
// pusher:subscription_error or pusher:error instead of success.
var ErrRefused = errors.New("refused")

// Event is the part of a server event the fleet reads.
type Event struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
	UserID  string `json:"user_id"`
	Serial  uint64 `json:"serial"`
}

// Conn is one Pusher connection over a lean WebSocket: one reader and one
// writer at a time.
type Conn struct {
	c        *wstest.Client
	scratch  []byte
	wbuf     []byte
	SocketID string
}

// Dial connects to baseURL (http://host:port) as app key, and waits for
// pusher:connection_established.
func Dial(ctx context.Context, baseURL, key string) (*Conn, error) {
	u, err := url.Parse(strings.Replace(baseURL, "http://", "ws://", 1) + "/app/" + url.PathEscape(key) + "?protocol=7&client=herald-fleet&version=1")
	if err != nil {
		return nil, fmt.Errorf("fleet: parse url: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("fleet: dial: %w", err)
	}
	wc, err := wstest.Handshake(ctx, nc, u, nil)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	c := &Conn{c: wc}
	_ = c.c.SetDeadline(time.Now().Add(DefaultTimeout))
	e, err := c.Next()
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("fleet: handshake event: %w", err)
	}
	if e.Event != protocol.EventConnectionEstablished {
		_ = c.Close()
		return nil, fmt.Errorf("fleet: first event %s: %s: %w", e.Event, e.Data, ErrRefused)
	}
	var d2 struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(e.Data), &d2); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("fleet: connection_established: %w", err)
	}
	c.SocketID = d2.SocketID
	_ = c.c.SetDeadline(time.Time{})
	return c, nil
}

// Close closes the TCP connection at once, without a closing handshake:
// the way a client that loses its network goes.
func (c *Conn) Close() error { return c.c.Close() }

// SetDeadline bounds the next reads and writes (zero: none).
func (c *Conn) SetDeadline(t time.Time) error { return c.c.SetDeadline(t) }

// Next reads the next event, answering WebSocket pings and pusher:ping
// on the way (so that idle connections stay up). A close frame is a
// Closed error.
func (c *Conn) Next() (Event, error) {
	for {
		f, err := c.c.ReadFrameInPlace(&c.scratch)
		if err != nil {
			return Event{}, err
		}
		switch f.Op {
		case ws.OpClose:
			code := uint16(0)
			if len(f.Payload) >= 2 {
				code = uint16(f.Payload[0])<<8 | uint16(f.Payload[1])
			}
			return Event{}, Closed{Code: code}
		case ws.OpPing:
			if err := c.write(ws.OpPong, append([]byte(nil), f.Payload...)); err != nil {
				return Event{}, err
			}
		case ws.OpText:
			var e Event
			if err := json.Unmarshal(f.Payload, &e); err != nil {
				return Event{}, fmt.Errorf("fleet: server frame is not JSON: %w", err)
			}
			if e.Event == protocol.EventPing {
				if err := c.Send(protocol.EventPong, "", map[string]any{}); err != nil {
					return Event{}, err
				}
				continue
			}
			return e, nil
		}
	}
}

// Send sends event with data (marshalled as an object, as pusher-js
// does) on channel ("" for none).
func (c *Conn) Send(event, channel string, data any) error {
	m := map[string]any{"event": event, "data": data}
	if channel != "" {
		m["channel"] = channel
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("fleet: marshal %s: %w", event, err)
	}
	return c.write(ws.OpText, b)
}

func (c *Conn) write(op ws.Opcode, payload []byte) error {
	c.wbuf = wstest.AppendMaskedFrame(c.wbuf[:0], op, true, payload, wstest.RandomKey())
	return c.c.WriteRaw(c.wbuf)
}

// Subscription is what Subscribe sends.
type Subscription struct {
	Channel string
	// Key and Secret sign private and presence channels; ChannelData is
	// a presence member ({"user_id":…}).
	Key, Secret string
	ChannelData string
	// Resume asks for a replay of what followed serial From.
	Resume bool
	From   uint64
}

// Subscribe sends pusher:subscribe and waits for the answer. Events of
// other channels read meanwhile go to other (which may be nil); a
// resume's replay comes after the answer, so it is left for Next.
func (c *Conn) Subscribe(s Subscription, other func(Event)) error {
	data := map[string]any{"channel": s.Channel}
	if ch, err := channels.ParseChannel(s.Channel); err == nil && ch.NeedsAuth() && s.Secret != "" {
		data["auth"] = channels.SignAuth(s.Key, s.Secret, channels.ChannelStringToSign(c.SocketID, s.Channel, s.ChannelData))
	}
	if s.ChannelData != "" {
		data["channel_data"] = s.ChannelData
	}
	if s.Resume {
		data["resume_from"] = s.From
	}
	if err := c.Send(protocol.EventSubscribe, "", data); err != nil {
		return err
	}
	_ = c.c.SetDeadline(time.Now().Add(DefaultTimeout))
	defer func() { _ = c.c.SetDeadline(time.Time{}) }()
	for {
		e, err := c.Next()
		if err != nil {
			return fmt.Errorf("fleet: subscribe %s: %w", s.Channel, err)
		}
		switch {
		case e.Event == protocol.EventSubscriptionSucceeded && e.Channel == s.Channel:
			return nil
		case e.Event == protocol.EventSubscriptionError && e.Channel == s.Channel, e.Event == protocol.EventError:
			return fmt.Errorf("fleet: subscribe %s: %s %s: %w", s.Channel, e.Event, e.Data, ErrRefused)
		case other != nil:
			other(e)
		}
	}
}
