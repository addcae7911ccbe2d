package gateway

import (
	"context"

	"github.com/heraldhq/herald/gateway/protocol"
)

// cachedFrame reads a cache channel's last server-published event: its
// frame and true, or a pusher:cache_miss frame and false when there is
// none (docs/protocol.md, "Pusher compatibility").
func (g *Gateway) cachedFrame(appID, channel string) (heldFrame, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	defer cancel()
	e, ok, err := g.cfg.Cache.Get(ctx, appID, channel)
	if err != nil {
		g.cfg.Logger.Warn("cache channel read failed", "app", appID, "err", err)
	}
	if !ok {
		if err == nil {
			g.webhookCacheMiss(appID, channel)
		}
		return heldFrame{frame: encodeFrame(&protocol.Message{Event: protocol.EventCacheMiss, Channel: channel, NoData: true}), event: protocol.EventCacheMiss}, false
	}
	return heldFrame{
		serial: e.Serial,
		frame:  encodeFrame(&protocol.Message{Event: e.Event, Channel: channel, Data: e.Data, Serial: e.Serial}),
		event:  e.Event,
	}, true
}

// replayCache sends a cache channel's last event (or pusher:cache_miss)
// right after subscription_succeeded. Live frames are held while the
// cache is read (sub.replaying), so that a message published meanwhile is
// neither sent before the older cached one nor sent twice. When a replay
// follows (resume or rewind) it sends nothing: the replay takes the
// cached event's place and sends it only where the client lacks it, so
// that every serial comes once and in order (replay, docs/protocol.md).
func (g *Gateway) replayCache(c *conn, sub *subscription, replayFollows bool) {
	if replayFollows {
		return
	}
	f, _ := g.cachedFrame(c.appID, sub.ch.Name)
	c.mu.Lock()
	var start, slow bool
	emit := func(h heldFrame) {
		st, sl := c.emitLocked(h)
		start, slow = start || st, slow || sl
	}
	emit(f)
	// The cache holds one event, not a history: nothing to verify.
	sub.verify = false
	c.releaseLocked(sub, f.serial, emit)
	c.mu.Unlock()
	g.afterEmit(c, start, slow)
}
