package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/gateway/protocol"
)

// A resume or rewind reads the stream, then hands over to live delivery.
// In a NATS cluster two windows can hide a message at that seam: the
// replica that answered the read may be a moment behind the stream leader,
// and a channel's new live subscription reaches the leader's server over a
// route a moment after the gateway made it, so a message stored in between
// is republished to nobody. Either way the message is in the stream but
// neither read nor delivered. The first live message after the replay
// shows it: it names its predecessor (PrevSerial) above the replay's last
// serial. A channel that stays quiet shows nothing, so a tail check reads
// its newest message once, ReplayTailCheck after the replay. Both fetch
// the gap, hold live frames meanwhile and release them in order.

// verifyLocked checks the first live frame after a replay: when its
// predecessor is above what the replay sent, the frame and the ones after
// it are held while the gap is fetched. c.mu must be held.
func (c *conn) verifyLocked(sub *subscription, prev uint64) {
	if prev <= sub.floor {
		sub.verify = false // the replay and the live stream meet
		return
	}
	sub.replaying = true
	go c.gw.catchUp(c, sub, sub.floor, prev)
}

// releaseLocked ends a replay that sent serials up to last: held frames
// above last go out in order. While sub.verify is set the first of them
// must follow last; if it does not, the frames from it on stay held and
// releaseLocked returns the predecessor to fetch up to (0: all released).
// c.mu must be held.
func (c *conn) releaseLocked(sub *subscription, last uint64, emit func(heldFrame)) (gapTo uint64) {
	for i, h := range sub.held {
		if h.serial != 0 && h.serial <= last {
			continue // the replay carried it
		}
		if sub.verify && h.serial != 0 {
			if h.prev > last {
				sub.held, sub.floor = sub.held[i:], last
				return h.prev
			}
			sub.verify = false
		}
		emit(h)
	}
	sub.held, sub.replaying, sub.floor = nil, false, last
	return 0
}

// currentLocked reports whether sub is still one of the connection's live
// subscriptions. c.mu must be held.
func (c *conn) currentLocked(sub *subscription) bool {
	return !c.closed && !c.closing && c.subs.get(sub.ch.Name) == sub
}

// emitLocked sends a frame of one of the connection's channels to its
// sink. It reports whether the caller must start the writer and whether
// the client turned out slow. c.mu must be held.
func (c *conn) emitLocked(h heldFrame) (start, slow bool) {
	_, start, slow = c.sink.queueLocked(c, h)
	return start, slow
}

// storedFrame is the frame of a message read from the stream.
func storedFrame(m *stream.Delivery) heldFrame {
	return heldFrame{
		serial: m.Serial,
		prev:   m.PrevSerial,
		frame: encodeFrame(&protocol.Message{
			Event: m.Event, Channel: m.Channel, Data: protocol.BytesString(m.Data), UserID: m.UserID, Serial: m.Serial,
		}),
		event: m.Event,
		atMs:  m.Time.UnixMilli(),
	}
}

// catchUp fetches the channel's messages in (from, upTo], sends them, and
// releases the live frames held meanwhile, repeating while the released
// frames show another gap. A gap that cannot be fetched (expired, or NATS
// did not answer) is logged and skipped: the client gets what exists.
func (g *Gateway) catchUp(c *conn, sub *subscription, from, upTo uint64) {
	for upTo > from {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
		msgs, err := g.cfg.Reader.Range(ctx, c.appID, sub.ch.Name, from, upTo, MaxResumeReplay)
		cancel()
		g.metrics.replayGaps.Inc()
		g.metrics.replayed.Add(float64(len(msgs)))

		c.mu.Lock()
		if !c.currentLocked(sub) {
			sub.held, sub.replaying = nil, false
			c.mu.Unlock()
			return
		}
		var start, slow bool
		emit := func(h heldFrame) {
			st, sl := c.emitLocked(h)
			start, slow = start || st, slow || sl
		}
		last := from
		for i := range msgs {
			emit(storedFrame(&msgs[i]))
			last = msgs[i].Serial
		}
		if err != nil || last < upTo {
			// Nothing more to fetch from here: release the rest as it is.
			g.cfg.Logger.Warn("replay gap not filled", slog.String("app", c.appID),
				slog.Uint64("from", from), slog.Uint64("to", upTo), slog.Uint64("reached", last), slog.Any("err", err))
			sub.verify = false
		}
		next := c.releaseLocked(sub, last, emit)
		c.mu.Unlock()
		g.afterEmit(c, start, slow)
		from, upTo = last, next
	}
}

// afterEmit does what emitLocked asked for once c.mu is released.
func (g *Gateway) afterEmit(c *conn, start, slow bool) {
	if slow {
		c.appSeries().slowConsumers.Inc()
	}
	if start {
		go c.writer()
	}
}

// scheduleTailCheck arranges the quiet-channel check after a replay.
func (g *Gateway) scheduleTailCheck(c *conn, sub *subscription) {
	time.AfterFunc(g.cfg.ReplayTailCheck, func() { g.checkTail(c, sub) })
}

// checkTail fetches what a replay and live delivery both missed on a
// channel that has had no live message since the replay.
func (g *Gateway) checkTail(c *conn, sub *subscription) {
	pending := func() bool { return sub.verify && !sub.replaying && c.currentLocked(sub) }
	c.mu.Lock()
	ok := pending()
	c.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	d, found, err := g.cfg.Reader.Last(ctx, c.appID, sub.ch.Name)
	cancel()
	if err != nil {
		g.cfg.Logger.Warn("replay tail check", slog.String("app", c.appID), slog.Any("err", err))
		return
	}
	c.mu.Lock()
	if !found || !pending() || d.Serial <= sub.floor {
		c.mu.Unlock()
		return
	}
	from := sub.floor
	sub.replaying = true
	c.mu.Unlock()
	g.catchUp(c, sub, from, d.Serial)
}
