package gateway

import (
	"context"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// replayCache sends a cache channel's last server-published event right
// after subscription_succeeded, or pusher:cache_miss when there is none
// (PUSHER.md §1.5).
func (g *Gateway) replayCache(c *conn, app *channels.AppConfig, ch channels.Channel) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	defer cancel()
	e, ok, err := g.cfg.Cache.Get(ctx, app.ID, ch.Name)
	if err != nil {
		g.cfg.Logger.Warn("cache channel read failed", "app", app.ID, "err", err)
	}
	if !ok {
		c.send(protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventCacheMiss, Channel: ch.Name, NoData: true}))
		return
	}
	c.send(protocol.AppendMessage(nil, &protocol.Message{Event: e.Event, Channel: ch.Name, Data: e.Data, Serial: e.Serial}))
}
