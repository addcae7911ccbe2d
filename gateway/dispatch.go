package gateway

import (
	"strings"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
)

// OnMessage handles one client frame. It runs on a poller worker, one call
// at a time per connection.
func (c *conn) OnMessage(w *ws.Conn, _ ws.Opcode, payload []byte) {
	c.setWS(w)
	c.lastActive.Store(c.gw.cfg.Now().UnixNano())
	c.pingSent.Store(0)
	c.gw.metrics.messagesIn.Inc()
	c.gw.metrics.bytesIn.Add(float64(len(payload)))

	app := c.app()
	if app == nil {
		c.fail(channels.PusherAppNotFound, "application no longer exists")
		return
	}
	// The poller refuses a larger frame from its header; this catches a
	// message that began before the app's limits were lowered.
	if len(payload) > clientMessageCap(app, c.gw.cfg.MaxClientMessageBytes) {
		c.closeAfter(nil, ws.CloseMessageTooBig, "message too big")
		return
	}
	f, err := protocol.Decode(payload)
	if err != nil {
		c.sendError(channels.PusherGeneric, "invalid message: "+err.Error())
		return
	}
	switch f.Event {
	case protocol.EventPing:
		c.send(protocol.Pong())
	case protocol.EventPong:
		// Activity was recorded above.
	case protocol.EventSubscribe:
		c.handleSubscribe(app, &f)
	case protocol.EventUnsubscribe:
		c.handleUnsubscribe(&f)
	case protocol.EventSignin:
		c.handleSignin(app, &f)
	case protocol.EventPublish:
		c.handlePublish(app, &f)
	case protocol.EventRefresh:
		c.handleRefresh(app, &f)
	default:
		switch {
		case strings.HasPrefix(f.Event, protocol.ClientPrefix):
			c.handleClientEvent(app, &f)
		case strings.HasPrefix(f.Event, protocol.PusherPrefix):
			c.sendError(channels.PusherGeneric, "unsupported event "+truncate(f.Event, maxEchoedName))
		default:
			c.sendError(channels.PusherGeneric, "client events must start with client-")
		}
	}
}

// maxEchoedName bounds client-supplied names quoted back in errors.
const maxEchoedName = 64

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// OnClose cleans up after the connection ended, whatever the cause. The
// poller calls it exactly once, never during OnMessage.
func (c *conn) OnClose(w *ws.Conn, _ error) {
	c.setWS(w)
	c.mu.Lock()
	c.closed = true
	c.queue, c.queued = nil, 0
	subs := c.subs.take()
	user := c.user
	closing := c.closing
	code, reason := c.closeWithLocked()
	c.mu.Unlock()
	if user != nil {
		c.gw.goOffline(c, user)
	}

	for _, s := range subs {
		c.gw.leaveChannel(c, s)
	}
	c.gw.metrics.subscriptions.Sub(float64(len(subs)))
	c.gw.unregister(c)
	c.gw.release(c.appID)
	c.appSeries().connections.Dec()
	c.gw.debugDisconnected(c, user, closing, code, reason)
}
