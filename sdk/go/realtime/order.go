package realtime

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var errNoAuthorizer = errors.New("needs Config.Authorizer or Config.TokenProvider")

// The order of a channel's frames.
//
// Sending: each pusher:subscribe and pusher:unsubscribe is queued on its
// channel's queue, under c.mu, by the call that decides it (Subscribe,
// Unsubscribe, a slow consumer's drop, a reconnection). One goroutine per
// busy channel sends them in that order, a subscribe after its
// authorization. So an unsubscribe never overtakes the subscribe made
// before it, nor a subscribe the unsubscribe made before it, and the
// server ends with the channel joined exactly when the client holds a
// subscription for it.
//
// Receiving: the server answers each subscribe once, in order
// (subscription_succeeded or subscription_error), and sends a left
// channel's messages until it reads the unsubscribe. So, on one link, a
// channel's frames belong to the subscription whose subscribe the server
// answered last (the route's owner) until the next answer. When that is
// a subscription the client has left, its frames are dropped: they never
// reach the subscription made after it. What the server sends a new
// subscription before answering it was published before Subscribe
// returned, which a subscription never promises to deliver.

// chanOp is one queued subscribe (sub set) or unsubscribe of a channel.
type chanOp struct {
	l    *link
	sub  *Subscription
	done chan error // buffered 1: the send's result, nil when there was nothing to send
}

// route is what one link knows of a channel's subscriptions at the
// server; c.mu guards it.
type route struct {
	asked []*Subscription // subscribes sent, not answered yet, oldest first
	owner *Subscription   // whose subscribe was answered last; nil: none, or refused
}

// queueLocked adds op to its channel's queue, and starts the channel's
// sender when it is idle. c.mu held.
func (c *Client) queueLocked(channel string, op *chanOp) {
	if c.closed {
		op.done <- ErrClosed
		return
	}
	q, busy := c.ops[channel]
	c.ops[channel] = append(q, op)
	if busy {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sendOps(channel)
	}()
}

// sendOps sends channel's queued frames in order until the queue is
// empty. A channel's key stays in c.ops while its sender runs.
func (c *Client) sendOps(channel string) {
	for {
		c.mu.Lock()
		q := c.ops[channel]
		if len(q) == 0 || c.closed {
			delete(c.ops, channel)
			c.mu.Unlock()
			return
		}
		op := q[0]
		q[0] = nil
		c.ops[channel] = q[1:]
		c.mu.Unlock()
		op.done <- c.runOp(channel, op)
	}
}

// failOpsLocked settles every queued frame with err; c.mu held.
func (c *Client) failOpsLocked(err error) {
	for channel, q := range c.ops {
		for _, op := range q {
			op.done <- err
		}
		c.ops[channel] = nil
	}
}

func (c *Client) runOp(channel string, op *chanOp) error {
	if op.l.ctx.Err() != nil {
		// That socket is gone, and its subscriptions with it; the next
		// one subscribes what is current then.
		return nil
	}
	if op.sub == nil {
		return c.send(op.l, evUnsubscribe, "", map[string]string{"channel": channel})
	}
	return c.subscribeOn(op.l, op.sub)
}

// newOp makes an op of s (nil: an unsubscribe) on l.
func newOp(l *link, s *Subscription) *chanOp {
	return &chanOp{l: l, sub: s, done: make(chan error, 1)}
}

// subscribeOn sends s's pusher:subscribe on l, authorized and with its
// resume position, unless s was left meanwhile or l is no longer the
// client's connection.
func (c *Client) subscribeOn(l *link, s *Subscription) error {
	data := map[string]any{"channel": s.name}
	_, hasToken := c.tokenSub()
	if err := c.authorize(l, s, data, hasToken); err != nil {
		if l.ctx.Err() != nil {
			return nil // the socket went away: the next one tries again
		}
		c.drop(s, &SubscriptionError{Channel: s.name, Type: "AuthError", Message: err.Error()})
		return nil
	}
	c.mu.Lock()
	if c.subs[s.name] != s || c.link != l {
		c.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	switch {
	case s.everSubscribed && s.lastSerial > 0:
		data["resume_from"] = s.lastSerial
	case s.everSubscribed && !s.lostAt.IsZero():
		data["rewind_ms"] = (time.Since(s.lostAt) + rewindSlack).Milliseconds()
	case !s.everSubscribed && s.opts.Rewind > 0:
		data["rewind"] = s.opts.Rewind
	}
	s.mu.Unlock()
	r := l.routes[s.name]
	if r == nil {
		r = &route{}
		l.routes[s.name] = r
	}
	r.asked = append(r.asked, s)
	c.mu.Unlock()
	if err := c.send(l, evSubscribe, "", data); err != nil {
		c.cfg.Logger.Debug("realtime: subscribe not sent", "channel", s.name, "err", err)
		return err
	}
	return nil
}

// target is the subscription a frame of f.Channel on l belongs to: nil
// when it is no current subscription's (see the top of this file).
func (c *Client) target(l *link, f frame) *Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := l.routes[f.Channel]
	if r == nil {
		return nil
	}
	var s *Subscription
	switch f.Event {
	case evSubscriptionSucceeded, evSubscriptionError:
		if len(r.asked) > 0 {
			s = r.asked[0]
			r.asked[0] = nil
			r.asked = r.asked[1:]
		} else {
			// Not an answer: the server left the channel on its own (a
			// refreshed token no longer allows it).
			s = r.owner
		}
		r.owner = s
		if f.Event == evSubscriptionError {
			r.owner = nil
		}
	default:
		s = r.owner
		if s == nil && len(r.asked) > 0 {
			// Live messages may come before the answer of a first join.
			s = r.asked[0]
		}
	}
	if s == nil || c.subs[f.Channel] != s {
		return nil
	}
	return s
}

// Subscribe joins a channel and returns once the server accepted it (or
// refused it: a *SubscriptionError). While disconnected it waits for the
// connection, within ctx. ctx also bounds the authorization
// (Config.Authorizer, Config.EncryptionKey), which gets it with its
// values. Subscribing again to a joined channel returns the same
// Subscription; subscribing again after it ended (Unsubscribe,
// ErrSlowConsumer) makes a new one, which never receives the old one's
// messages. A user channel (#server-to-user-…) comes with SignIn
// (ErrNotSignedIn here).
func (c *Client) Subscribe(ctx context.Context, channel string, opts SubscribeOptions) (*Subscription, error) {
	if isUserChannel(channel) {
		return nil, fmt.Errorf("realtime: subscribe %s: user channels come with SignIn: %w", channel, ErrNotSignedIn)
	}
	return c.subscribe(ctx, channel, opts, false)
}

func (c *Client) subscribe(ctx context.Context, channel string, opts SubscribeOptions, user bool) (*Subscription, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	s := c.subs[channel]
	fresh := s == nil
	if fresh {
		s = newSubscription(c, channel, opts, user, ctx)
		c.subs[channel] = s
		if c.link != nil {
			c.queueLocked(channel, newOp(c.link, s))
		}
	}
	c.mu.Unlock()
	select {
	case <-s.ready:
		if err := s.Err(); err != nil {
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		if fresh {
			s.leave(nil)
		}
		return nil, fmt.Errorf("realtime: subscribe %s: %w", channel, ctx.Err())
	}
}

// Unsubscribe leaves the channel and closes Messages. It returns once the
// pusher:unsubscribe is sent (or ctx is done); on a subscription that
// already ended it does nothing.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	op := s.leave(nil)
	if op == nil {
		return nil
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("realtime: unsubscribe %s: %w", s.name, ctx.Err())
	}
}

// drop ends s with err (a slow consumer, a refusal) and leaves its channel.
func (c *Client) drop(s *Subscription, err error) { s.leave(err) }

// leave ends s with err (nil: Unsubscribe) and, when s is the channel's
// current subscription on an open connection, queues its unsubscribe,
// which it returns. A refused subscribe (a *SubscriptionError) has
// nothing to leave.
func (s *Subscription) leave(err error) *chanOp {
	c := s.c
	var op *chanOp
	c.mu.Lock()
	if c.subs[s.name] == s {
		delete(c.subs, s.name)
		failWith := err
		if failWith == nil {
			failWith = fmt.Errorf("realtime: %s: unsubscribed: %w", s.name, ErrClosed)
		}
		c.out.failChannel(s.name, failWith)
		var refused *SubscriptionError
		if c.link != nil && !errors.As(err, &refused) {
			op = newOp(c.link, nil)
			c.queueLocked(s.name, op)
		}
	}
	c.mu.Unlock()
	s.close(err)
	return op
}

// authorize fills data's auth fields (signatures, or nothing on a token
// connection) and the channel's key and own user id.
func (c *Client) authorize(l *link, s *Subscription, data map[string]any, hasToken bool) error {
	if s.userChannel || !needsAuth(s.name) {
		return nil
	}
	ctx, cancel := c.authContext(l, s)
	defer cancel()
	var a AuthResponse
	switch {
	case hasToken:
		if isPresence(s.name) {
			sub, _ := c.tokenSub()
			s.mu.Lock()
			s.myID = sub
			s.mu.Unlock()
		}
	case c.cfg.Authorizer == nil:
		return errNoAuthorizer
	default:
		var err error
		if a, err = c.cfg.Authorizer(ctx, l.socketID, s.name); err != nil {
			return fmt.Errorf("authorizer: %w", err)
		}
		data["auth"] = a.Auth
		if a.ChannelData != "" {
			data["channel_data"] = a.ChannelData
			s.setMyID(a.ChannelData)
		}
	}
	if isEncrypted(s.name) {
		key, err := c.channelKey(ctx, s.name, a.SharedSecret)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.secret = key
		s.mu.Unlock()
	}
	return nil
}

// authContext bounds an authorization: by the Subscribe call's context
// while that call waits (its values included), by Config.ConnectTimeout,
// and by the life of the socket and of the subscription.
func (c *Client) authContext(l *link, s *Subscription) (context.Context, context.CancelFunc) {
	base := l.ctx
	if caller := s.callerContext(); caller != nil {
		base = caller
	}
	ctx, cancel := context.WithTimeout(base, c.cfg.ConnectTimeout)
	stopLink := context.AfterFunc(l.ctx, cancel)
	stopSub := context.AfterFunc(s.life, cancel)
	return ctx, func() {
		stopLink()
		stopSub()
		cancel()
	}
}
