package gateway

import (
	"context"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// keepalive pings connections that have been silent for their app's
// activity timeout and closes those that do not answer within
// PongTimeout with 4201; it also runs the token connections' expiry
// (checkToken), SSE streams included. One goroutine scans every connection each
// KeepaliveInterval instead of a timer per connection, which would cost
// memory on every idle connection.
func (g *Gateway) keepalive(ctx context.Context) {
	t := time.NewTicker(g.cfg.KeepaliveInterval)
	defer t.Stop()
	ping := protocol.Ping()
	var conns []*conn
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := g.cfg.Now().UnixNano()
		conns = g.appendConns(conns[:0])
		for _, c := range conns {
			app := c.app()
			if app == nil {
				continue
			}
			c.checkToken(now, g.cfg.TokenExpiryNotice)
			if !c.sink.protocolEvents() {
				continue // SSE streams send their own heartbeats
			}
			if sent := c.pingSent.Load(); sent != 0 {
				if time.Duration(now-sent) > g.cfg.PongTimeout {
					c.closeAfter(nil, uint16(channels.PusherPongTimeout), "pong reply not received")
				}
				continue
			}
			if time.Duration(now-c.lastActive.Load()) >= app.Settings.ActivityTimeout() {
				c.pingSent.Store(now)
				c.send(ping)
			}
		}
		// Hold no connection until the next scan.
		clear(conns)
	}
}
