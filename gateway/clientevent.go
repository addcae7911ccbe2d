package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// handleClientEvent relays a client-* event to the channel's other
// subscribers, cluster-wide, through the message stream (docs/protocol.md,
// "Pusher compatibility"): app flag on, private or presence channel (never
// encrypted), sender subscribed, at most client_event_rate per second, never
// echoed.
func (c *conn) handleClientEvent(app *channels.AppConfig, f *protocol.Frame) {
	if err := channels.ValidateEventName(f.Event); err != nil {
		c.sendError(channels.PusherGeneric, err.Error())
		return
	}
	c.mu.Lock()
	sub := c.subs.get(f.Channel)
	c.mu.Unlock()
	if msg := c.mayPublish(app, sub); msg != "" {
		c.sendError(channels.PusherUnauthorized, msg)
		return
	}
	data, err := f.DataString()
	if err != nil {
		c.sendError(channels.PusherGeneric, "invalid event data")
		return
	}
	if len(data) > app.Settings.MaxMessageBytes {
		c.sendError(channels.PusherGeneric, fmt.Sprintf("event data is larger than %d bytes", app.Settings.MaxMessageBytes))
		return
	}
	if !c.takeToken(app.Settings.ClientEventRate) {
		c.gw.metrics.clientEventsLimited.Inc()
		c.sendError(channels.PusherClientEventLimit, fmt.Sprintf("client event rejected: more than %d per second", app.Settings.ClientEventRate))
		return
	}
	v, res := c.gw.cfg.Quotas.CheckPublish(app, 1)
	if v.Refused {
		c.sendError(channels.PusherClientEventLimit, "client event rejected: "+quotaMessage(v))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.gw.cfg.PublishTimeout)
	defer cancel()
	serial, dup, err := c.gw.cfg.Publisher.Publish(ctx, stream.Message{
		AppID: app.ID, Channel: sub.ch.Name, Event: f.Event, Data: []byte(data),
		ExcludeSocket: c.socketID, UserID: sub.userID, Source: stream.SourceClient,
	})
	if err == nil {
		res.Accepted(serial, dup)
	} else {
		res.Release()
		c.gw.cfg.Logger.Warn("client event publish failed", "app", app.ID, "err", err)
		c.sendError(channels.PusherGeneric, "client event could not be delivered; retry")
		return
	}
	c.gw.webhookClientEvent(app, c, sub, f.Event, data, serial)
	c.debugMessage(channels.DebugClientEvent, sub, f.Event, data, serial)
}

// mayPublish says why the connection may not publish on sub's channel
// ("" when it may): without a token, the app's client_events flag and a
// private or presence channel; with one, its publish capability (never on
// encrypted channels, whose payloads the server cannot see).
func (c *conn) mayPublish(app *channels.AppConfig, sub *subscription) string {
	t := c.claims()
	switch {
	case sub == nil:
		return "publish on a channel the connection has not joined"
	case t != nil:
		if sub.ch.Kind == channels.KindPrivateEncrypted || sub.ch.Kind == channels.KindUser ||
			!t.Capabilities.Allows(sub.ch.Name, channels.OpPublish) {
			return "the token does not allow publishing on this channel"
		}
		return ""
	case !app.Settings.ClientEvents:
		return "client events are not enabled for this app"
	case sub.ch.Kind == channels.KindPrivateEncrypted:
		return "client events are not allowed on encrypted channels"
	case !sub.ch.AllowsClientEvents():
		return "client events are only allowed on private and presence channels"
	}
	return ""
}

// takeToken spends one client-event token, refilling the bucket at rate
// per second up to rate tokens.
func (c *conn) takeToken(rate int) bool {
	now := c.gw.cfg.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.events == nil {
		c.events = &tokenBucket{tokens: float64(rate), atNs: now}
	}
	return c.events.take(now, rate)
}

// tokenBucket is a token bucket refilled at rate per second, holding at
// most rate tokens.
type tokenBucket struct {
	tokens float64
	atNs   int64
}

// take refills b for the time since its last use and spends one token.
func (b *tokenBucket) take(now int64, rate int) bool {
	b.tokens = min(b.tokens+float64(now-b.atNs)/float64(time.Second)*float64(rate), float64(rate))
	b.atNs = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
