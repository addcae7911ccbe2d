package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"
)

// retryAfterNack is the wait before resending publishes nacked as retriable.
const retryAfterNack = time.Second

// MaxPublishIDLen bounds a publish's idempotency id (WithPublishID), as
// the server does.
const MaxPublishIDLen = 200

// PublishOption tunes one Publish.
type PublishOption func(*publishOptions)

type publishOptions struct{ id string }

// WithPublishID sets the publish's idempotency id (1 to MaxPublishIDLen
// characters; by default the client makes a random one). The server
// stores a channel's publishes with the same id once, within its
// two-minute idempotency window (MaxPublishTimeout keeps the client's own
// resends inside it), and acks a repeat with the first one's serial: a
// caller that retries a publish whose outcome it does not know (its
// context ended after it was sent) retries with the same id.
func WithPublishID(id string) PublishOption {
	return func(o *publishOptions) { o.id = id }
}

// Publish stores a message through herald:publish and returns its serial
// once the server acknowledged it. The channel must be subscribed
// (ErrNotSubscribed otherwise): a private or presence channel (not
// private-encrypted) when the app has client events on, or, on a
// connection with a token, any channel its capabilities allow publishing
// on, encrypted and user channels excepted. The client refuses at once
// what the server always refuses (ErrNotAllowed); the server's refusal is
// a *NackError, which matches ErrNotAllowed when its code is 4009.
//
// A publish with a context already done is not sent. While disconnected
// it waits in the outbox and is sent, in order and with the same
// idempotency id, once the channel is subscribed again; beyond
// Config.OutboxSize waiting publishes it fails at once with ErrOutboxFull.
// It fails with ctx's error at its deadline (Config.PublishTimeout when
// ctx has none; never beyond MaxPublishTimeout, the server's idempotency
// window): it may have been stored then, so retry with the same id
// (WithPublishID), which stores it once.
//
// The publisher's own connection does not receive its publishes on its
// subscription (as client events, they go to the channel's other
// subscribers), not even their replay after a reconnection: the returned
// serial is the message's.
func (c *Client) Publish(ctx context.Context, channel, event string, data any, opts ...PublishOption) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("realtime: publish on %s: %w", channel, err)
	}
	var o publishOptions
	for _, opt := range opts {
		opt(&o)
	}
	switch n := utf8.RuneCountInString(o.id); {
	case o.id == "":
		o.id = newID()
	case n > MaxPublishIDLen:
		return 0, fmt.Errorf("realtime: publish id has %d characters, at most %d", n, MaxPublishIDLen)
	}
	if err := c.mayPublish(channel); err != nil {
		return 0, err
	}
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
	p := &pending{id: o.id, channel: channel, event: event, data: raw}
	c.mu.Lock()
	switch {
	case c.closed:
		err = ErrClosed
	case c.subs[channel] == nil:
		err = fmt.Errorf("realtime: publish on %s: subscribe to it first: %w", channel, ErrNotSubscribed)
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

// mayPublish refuses, before anything is sent, a publish or client event
// the server refuses whatever the app's settings: on encrypted channels
// (the server cannot read their payloads), on user channels, and on
// public channels without a token (signatures allow private and presence
// channels only).
func (c *Client) mayPublish(channel string) error {
	switch {
	case isEncrypted(channel):
		return fmt.Errorf("realtime: publish on %s: encrypted channels take no publishes nor client events from clients: %w", channel, ErrNotAllowed)
	case isUserChannel(channel):
		return fmt.Errorf("realtime: publish on %s: user channels take no publishes nor client events from clients: %w", channel, ErrNotAllowed)
	case !needsAuth(channel) && c.cfg.TokenProvider == nil:
		return fmt.Errorf("realtime: publish on %s: a public channel takes publishes only on a token connection whose capabilities allow it: %w", channel, ErrNotAllowed)
	}
	return nil
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
