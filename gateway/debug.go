package gateway

import (
	"net/http"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// The gateway's part of the console's live debug stream (docs/console.md,
// "Debug stream"). Every would-be event first asks whether a console
// watches the app (one atomic load and a map lookup); only then is the
// event built and published. Message deliveries are never debug events,
// so the fan-out does not even ask.

// DebugEmitter publishes the debug events of watched apps;
// bus/debugstream.Publisher implements it. Publish must not block.
type DebugEmitter interface {
	Watched(appID string) bool
	Publish(appID string, ev channels.DebugEvent)
}

// Transports, as debug events name them.
const (
	transportWS  = "ws"
	transportSSE = "sse"
)

// debugOn reports whether a console watches the app.
func (g *Gateway) debugOn(appID string) bool {
	return g.cfg.Debug != nil && g.cfg.Debug.Watched(appID)
}

// debug publishes ev for the app, naming this gateway. Call it after
// debugOn, so that an unwatched app never builds the event.
func (g *Gateway) debug(appID string, ev channels.DebugEvent) {
	ev.Gateway = g.cfg.GatewayID
	g.cfg.Debug.Publish(appID, ev)
}

// debugConnected reports a connection that was admitted.
func (g *Gateway) debugConnected(c *conn, r *http.Request) {
	if !g.debugOn(c.appID) {
		return
	}
	g.debug(c.appID, channels.DebugEvent{Type: channels.DebugConnected, SocketID: c.socketID,
		Transport: c.sink.transport(), RemoteAddr: g.clientAddr(r)})
}

// debugRefused reports a WebSocket of a known app refused with
// pusher:error before it became a connection (no socket id yet).
func (g *Gateway) debugRefused(app *channels.AppConfig, r *http.Request, code channels.WireCode, message string) {
	if app == nil || !g.debugOn(app.ID) {
		return
	}
	g.debug(app.ID, channels.DebugEvent{Type: channels.DebugClientError, Transport: transportWS,
		RemoteAddr: g.clientAddr(r), Code: int(code), Message: message})
}

// clientAddr is the client's address as the connection limits see it
// (through trusted proxies).
func (g *Gateway) clientAddr(r *http.Request) string {
	if ip, ok := g.limits.clientIP.IP(r); ok {
		return ip.String()
	}
	return r.RemoteAddr
}

// debugDisconnected reports a connection that ended: with the close's
// code and reason when the server closed it.
func (g *Gateway) debugDisconnected(c *conn, user *signedInUser, closing bool, code uint16, reason string) {
	if !g.debugOn(c.appID) {
		return
	}
	ev := channels.DebugEvent{Type: channels.DebugDisconnected, SocketID: c.socketID, Transport: c.sink.transport()}
	if user != nil {
		ev.UserID = user.id
	}
	if closing {
		ev.Code, ev.Message = int(code), reason
	}
	g.debug(c.appID, ev)
}

// debugSub reports a change of one of c's subscriptions.
func (c *conn) debugSub(kind channels.DebugKind, channel string) {
	if c.gw.debugOn(c.appID) {
		c.gw.debug(c.appID, channels.DebugEvent{Type: kind, SocketID: c.socketID, Channel: channel})
	}
}

// debugChannel reports a channel this gateway started or stopped
// carrying: occupied and vacated are per gateway.
func (g *Gateway) debugChannel(kind channels.DebugKind, appID, channel string) {
	if g.debugOn(appID) {
		g.debug(appID, channels.DebugEvent{Type: kind, Channel: channel})
	}
}

// debugMember reports a connection joining or leaving a presence channel
// as userID.
func (c *conn) debugMember(kind channels.DebugKind, channel, userID string) {
	if c.gw.debugOn(c.appID) {
		c.gw.debug(c.appID, channels.DebugEvent{Type: kind, SocketID: c.socketID, Channel: channel, UserID: userID})
	}
}

// debugMessage reports a client event or an acked publish stored with
// serial.
func (c *conn) debugMessage(kind channels.DebugKind, sub *subscription, event, data string, serial uint64) {
	if !c.gw.debugOn(c.appID) {
		return
	}
	preview, cut := channels.DebugPreview([]byte(data))
	ev := channels.DebugEvent{Type: kind, SocketID: c.socketID, Channel: sub.ch.Name, Event: event,
		Serial: serial, Size: len(data), Preview: preview, Truncated: cut, UserID: sub.userID}
	if ev.UserID == "" {
		c.mu.Lock()
		if c.user != nil {
			ev.UserID = c.user.id
		}
		c.mu.Unlock()
	}
	c.gw.debug(c.appID, ev)
}

// debugSubError reports a pusher:subscription_error sent to c.
func (c *conn) debugSubError(channel, message string, status int) {
	if c.gw.debugOn(c.appID) {
		c.gw.debug(c.appID, channels.DebugEvent{Type: channels.DebugSubscriptionError, SocketID: c.socketID,
			Channel: channel, Code: status, Message: message})
	}
}

// debugClientError reports a pusher:error sent to c.
func (c *conn) debugClientError(code channels.WireCode, message string) {
	if c.gw.debugOn(c.appID) {
		c.gw.debug(c.appID, channels.DebugEvent{Type: channels.DebugClientError, SocketID: c.socketID,
			Code: int(code), Message: message})
	}
}

// sendError sends pusher:error to c, a non-fatal one (the connection
// stays open).
func (c *conn) sendError(code channels.WireCode, message string) {
	c.debugClientError(code, message)
	c.send(protocol.Error(code, message))
}
