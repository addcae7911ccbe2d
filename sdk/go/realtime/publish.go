package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// retryAfterNack is the wait before resending publishes nacked as retriable.
const retryAfterNack = time.Second

// Publish stores a message through herald:publish and returns its serial
// once the server acknowledged it. The channel must be subscribed (a
// private or presence channel with client events on, or one the token
// allows publishing on). While disconnected the publish waits in the
// outbox and is sent, in order and with the same idempotency id, once the
// channel is subscribed again; beyond Config.OutboxSize waiting publishes
// it fails at once with ErrOutboxFull. It fails with a *NackError when
// refused, or with ctx's error at its deadline (Config.PublishTimeout when
// ctx has none; never beyond MaxPublishTimeout, the server's idempotency
// window).
func (c *Client) Publish(ctx context.Context, channel, event string, data any) (uint64, error) {
	raw, err := marshalData(data)
	if err != nil {
		return 0, err
	}
	limit := MaxPublishTimeout
	if _, ok := ctx.Deadline(); !ok {
		limit = c.cfg.PublishTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p := &pending{id: newID(), channel: channel, event: event, data: raw}
	c.mu.Lock()
	switch {
	case c.closed:
		err = ErrClosed
	case c.subs[channel] == nil:
		err = fmt.Errorf("realtime: subscribe to %s before publishing on it", channel)
	default:
		err = c.out.add(p)
	}
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	c.flushOutbox()
	select {
	case r := <-p.done:
		return r.serial, r.err
	case <-ctx.Done():
	}
	c.mu.Lock()
	c.out.remove(p)
	last := p.lastNack
	c.mu.Unlock()
	select {
	case r := <-p.done:
		return r.serial, r.err
	default:
	}
	if last != nil {
		return 0, fmt.Errorf("realtime: publish %s: %w (last refusal: %w)", p.id, ctx.Err(), last)
	}
	return 0, fmt.Errorf("realtime: publish %s: %w", p.id, ctx.Err())
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// flushOutbox sends, oldest first, every waiting publish whose channel is
// subscribed. One flush at a time keeps the order.
func (c *Client) flushOutbox() {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	l := c.link
	if l == nil || c.closed {
		c.mu.Unlock()
		return
	}
	batch := c.out.take(func(ch string) bool {
		s := c.subs[ch]
		return s != nil && s.isSubscribed()
	})
	c.mu.Unlock()
	for i, p := range batch {
		err := c.send(l, evPublish, "", map[string]any{"channel": p.channel, "event": p.event, "data": p.data, "id": p.id})
		if err != nil {
			// The socket is going away: these go again on the next one.
			c.mu.Lock()
			for _, q := range batch[i:] {
				q.sent = false
			}
			c.mu.Unlock()
			return
		}
	}
}

func (c *Client) settlePublish(id string, r pubResult) {
	c.mu.Lock()
	var channel string
	for _, p := range c.out.list {
		if p.id == id {
			channel = p.channel
		}
	}
	s := c.subs[channel]
	c.out.settle(id, r)
	c.mu.Unlock()
	if s != nil && r.err == nil {
		s.noteOwn(r.serial)
	}
}

func (c *Client) nackPublish(n *NackError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.out.nack(n) || c.retry != nil || c.closed {
		return
	}
	c.retry = time.AfterFunc(retryAfterNack, func() {
		c.mu.Lock()
		c.retry = nil
		c.mu.Unlock()
		c.goOwned(c.flushOutbox)
	})
}
