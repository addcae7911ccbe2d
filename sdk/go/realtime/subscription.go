package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Channel-level events delivered on Messages besides the channel's own.
const (
	// EventResumed ends a resume after a reconnection; Message.Recovered
	// says whether every missed message was replayed. When false, messages
	// were lost (outside the resume window): refetch the channel's state.
	EventResumed = "herald:resumed"
	// EventMemberAdded and EventMemberRemoved carry Message.Member on
	// presence channels.
	EventMemberAdded   = "pusher:member_added"
	EventMemberRemoved = "pusher:member_removed"
	// EventCacheMiss: a cache channel has nothing cached yet.
	EventCacheMiss = "pusher:cache_miss"
)

// rewindSlack widens rewind_ms when a channel that had seen no message
// resumes, so that nothing published around the loss is missed.
const rewindSlack = time.Second

// ownSerialsKept bounds the serials of this client's own publishes a
// subscription remembers, to skip their replay after a resume.
const ownSerialsKept = 256

// SubscribeOptions tunes Subscribe.
type SubscribeOptions struct {
	// Rewind replays the last n messages (at most 100) on the first
	// subscribe.
	Rewind int
}

// Message is one event of a channel, or a channel-level event
// (EventResumed, EventMemberAdded, EventMemberRemoved, EventCacheMiss).
type Message struct {
	Channel string
	Event   string
	// Data is the event's data as published (decrypted on
	// private-encrypted channels): the publisher's JSON text, or string.
	Data []byte
	// Serial is the message's position in the stream (0 for client events
	// and channel-level events).
	Serial uint64
	// UserID is the sender of a client event on a presence channel.
	UserID string
	// Recovered is set on EventResumed.
	Recovered bool
	// Member is set on EventMemberAdded and EventMemberRemoved.
	Member *Member
}

// Member is a presence channel member.
type Member struct {
	ID   string
	Info json.RawMessage
}

// Subscription is a joined channel. Its messages arrive once each and in
// serial order, across reconnections.
//
// Messages are buffered (Config.MessageBuffer) and the client never waits
// for a slow reader: when the buffer is full the subscription is closed
// with ErrSlowConsumer (its channel is closed, Err says so) rather than
// silently skip a message. Subscribe again to go on, from the serial of
// the last message read via History if needed.
type Subscription struct {
	c           *Client
	name        string
	opts        SubscribeOptions
	userChannel bool
	msgs        chan Message
	ready       chan struct{}

	mu             sync.Mutex
	subscribed     bool
	everSubscribed bool
	closed         bool
	err            error
	lastSerial     uint64
	lostAt         time.Time
	recovered      *bool
	secret         *[32]byte
	members        map[string]json.RawMessage
	myID           string
	own            []uint64
	handlers       map[string][]func(Message)
	dispatching    bool
}

// Name is the channel's name.
func (s *Subscription) Name() string { return s.name }

// Messages is the channel's messages; it is closed when the subscription
// ends (see Err). Read it, or use Bind, not both.
func (s *Subscription) Messages() <-chan Message { return s.msgs }

// Err is why the subscription ended: nil while open and after
// Unsubscribe; ErrSlowConsumer, a *SubscriptionError, ErrClosed or the
// client's *CloseError otherwise.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Recovered is the result of the latest resume: whether every message
// missed while disconnected was replayed; ok is false before any resume.
// A channel resumes from the serial of its last message; one that had
// received none yet resumes by time (rewind_ms over the disconnection,
// plus a second), for which the server reports no result.
func (s *Subscription) Recovered() (recovered, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recovered == nil {
		return false, false
	}
	return *s.recovered, true
}

// LastSerial is the serial of the last message delivered.
func (s *Subscription) LastSerial() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSerial
}

// Members is a presence channel's roster by user id.
func (s *Subscription) Members() map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]json.RawMessage, len(s.members))
	for id, info := range s.members {
		out[id] = info
	}
	return out
}

// Me is this connection's member of a presence channel.
func (s *Subscription) Me() (Member, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.members[s.myID]
	if !ok || s.myID == "" {
		return Member{}, false
	}
	return Member{ID: s.myID, Info: info}, true
}

// Bind calls fn for each message of event ("" for every message,
// channel-level events included), on one goroutine per subscription, in
// order. The first Bind starts that goroutine, which reads Messages.
func (s *Subscription) Bind(event string, fn func(Message)) {
	s.mu.Lock()
	if s.handlers == nil {
		s.handlers = map[string][]func(Message){}
	}
	s.handlers[event] = append(s.handlers[event], fn)
	start := !s.dispatching
	s.dispatching = true
	s.mu.Unlock()
	if start {
		s.c.goOwned(s.dispatch)
	}
}

func (s *Subscription) dispatch() {
	for m := range s.msgs {
		s.mu.Lock()
		fns := append(append([]func(Message){}, s.handlers[m.Event]...), s.handlers[""]...)
		s.mu.Unlock()
		for _, fn := range fns {
			fn(m)
		}
	}
}

// Trigger sends a client event (named client-…) to the channel's other
// subscribers: private and presence channels only, not echoed back.
func (s *Subscription) Trigger(ctx context.Context, event string, data any) error {
	if !strings.HasPrefix(event, "client-") {
		return fmt.Errorf("realtime: client event %q must start with client-", event)
	}
	if !strings.HasPrefix(s.name, "private-") && !strings.HasPrefix(s.name, "presence-") ||
		strings.HasPrefix(s.name, "private-encrypted-") {
		return fmt.Errorf("realtime: client events need a private or presence channel, not %s", s.name)
	}
	l, err := s.c.current(ctx)
	if err != nil {
		return err
	}
	return s.c.send(l, event, s.name, data)
}

// Publish is Client.Publish on this channel.
func (s *Subscription) Publish(ctx context.Context, event string, data any) (uint64, error) {
	return s.c.Publish(ctx, s.name, event, data)
}

// Unsubscribe leaves the channel and closes Messages.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	c := s.c
	c.mu.Lock()
	if c.subs[s.name] == s {
		delete(c.subs, s.name)
		c.out.failChannel(s.name, fmt.Errorf("realtime: %s: unsubscribed: %w", s.name, ErrClosed))
	}
	l := c.link
	c.mu.Unlock()
	s.close(nil)
	if l == nil {
		return nil
	}
	return c.send(l, evUnsubscribe, "", map[string]string{"channel": s.name})
}

// Subscribe joins a channel and returns once the server accepted it (or
// refused it: a *SubscriptionError). While disconnected it waits for the
// connection, within ctx. Subscribing again to a joined channel returns
// the same Subscription.
func (c *Client) Subscribe(ctx context.Context, channel string, opts SubscribeOptions) (*Subscription, error) {
	if strings.HasPrefix(channel, "#") {
		return nil, fmt.Errorf("realtime: %s: user channels come with SignIn", channel)
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
		s = &Subscription{
			c: c, name: channel, opts: opts, userChannel: user,
			msgs:  make(chan Message, c.cfg.MessageBuffer),
			ready: make(chan struct{}),
		}
		c.subs[channel] = s
	}
	l := c.link
	c.mu.Unlock()
	if fresh && l != nil {
		c.goOwned(func() { c.subscribeOn(l, s) })
	}
	select {
	case <-s.ready:
		if err := s.Err(); err != nil {
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		if fresh {
			_ = s.Unsubscribe(context.Background())
		}
		return nil, fmt.Errorf("realtime: subscribe %s: %w", channel, ctx.Err())
	}
}

// subscribeOn sends s's pusher:subscribe on l, authorized and with its
// resume position.
func (c *Client) subscribeOn(l *link, s *Subscription) {
	data := map[string]any{"channel": s.name}
	_, hasToken := c.tokenSub()
	if err := c.authorize(l, s, data, hasToken); err != nil {
		if l.ctx.Err() != nil {
			return // the socket went away: the next one tries again
		}
		c.drop(s, &SubscriptionError{Channel: s.name, Type: "AuthError", Message: err.Error()})
		return
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return
	case s.everSubscribed && s.lastSerial > 0:
		data["resume_from"] = s.lastSerial
	case s.everSubscribed && !s.lostAt.IsZero():
		data["rewind_ms"] = (time.Since(s.lostAt) + rewindSlack).Milliseconds()
	case !s.everSubscribed && s.opts.Rewind > 0:
		data["rewind"] = s.opts.Rewind
	}
	s.mu.Unlock()
	if err := c.send(l, evSubscribe, "", data); err != nil {
		c.cfg.Logger.Debug("realtime: subscribe not sent", "channel", s.name, "err", err)
	}
}

func isPresence(name string) bool  { return strings.HasPrefix(name, "presence-") }
func isEncrypted(name string) bool { return strings.HasPrefix(name, "private-encrypted-") }
func needsAuth(name string) bool {
	return strings.HasPrefix(name, "private-") || isPresence(name)
}

// authorize fills data's auth fields (signatures, or nothing on a token
// connection) and the channel's key and own user id.
func (c *Client) authorize(l *link, s *Subscription, data map[string]any, hasToken bool) error {
	if s.userChannel || !needsAuth(s.name) {
		return nil
	}
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
		return errors.New("needs Config.Authorizer or Config.TokenProvider")
	default:
		ctx, cancel := context.WithTimeout(l.ctx, c.cfg.ConnectTimeout)
		defer cancel()
		var err error
		if a, err = c.cfg.Authorizer(ctx, l.socketID, s.name); err != nil {
			return fmt.Errorf("authorizer: %w", err)
		}
		data["auth"] = a.Auth
		if a.ChannelData != "" {
			data["channel_data"] = a.ChannelData
			var cd struct {
				UserID json.RawMessage `json:"user_id"`
			}
			if json.Unmarshal([]byte(a.ChannelData), &cd) == nil {
				s.mu.Lock()
				s.myID = userID(cd.UserID)
				s.mu.Unlock()
			}
		}
	}
	if isEncrypted(s.name) {
		key, err := c.channelKey(l.ctx, s.name, a.SharedSecret)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.secret = key
		s.mu.Unlock()
	}
	return nil
}

// userID reads a user id as the server does: a string, or an integer as
// its digits.
func userID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// drop ends s with err and leaves its channel.
func (c *Client) drop(s *Subscription, err error) {
	c.mu.Lock()
	if c.subs[s.name] == s {
		delete(c.subs, s.name)
		c.out.failChannel(s.name, err)
	}
	l := c.link
	c.mu.Unlock()
	s.close(err)
	if l != nil && !errors.As(err, new(*SubscriptionError)) {
		c.goOwned(func() { _ = c.send(l, evUnsubscribe, "", map[string]string{"channel": s.name}) })
	}
}

// close ends the subscription: Messages is closed, waiters are released.
func (s *Subscription) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	close(s.msgs)
	s.release()
}

// release frees Subscribe's waiter; s.mu held.
func (s *Subscription) release() {
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

// suspend: the connection was lost; the next subscribe resumes.
func (s *Subscription) suspend(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscribed = false
	if s.lostAt.IsZero() {
		s.lostAt = now
	}
}

func (s *Subscription) isSubscribed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subscribed
}

// noteOwn remembers the serial of one of this client's publishes.
func (s *Subscription) noteOwn(serial uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.own = append(s.own, serial)
	if len(s.own) > ownSerialsKept {
		s.own = s.own[1:]
	}
}

// handle takes one frame of the channel; an error ends the subscription.
func (s *Subscription) handle(f frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	switch f.Event {
	case evSubscriptionSucceeded:
		return s.onSubscribed(f)
	case evResumeResult:
		var d struct {
			Recovered bool `json:"recovered"`
		}
		_ = f.decodeData(&d)
		s.recovered = &d.Recovered
		s.lostAt = time.Time{}
		return s.push(Message{Channel: s.name, Event: EventResumed, Recovered: d.Recovered})
	case evSubscriptionError:
		var d struct {
			Type   string `json:"type"`
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		_ = f.decodeData(&d)
		return &SubscriptionError{Channel: s.name, Type: d.Type, Message: d.Error, Status: d.Status}
	case evSubscriptionCount:
		return nil
	case evCacheMiss:
		return s.push(Message{Channel: s.name, Event: EventCacheMiss})
	case evMemberAdded:
		var d struct {
			UserID   json.RawMessage `json:"user_id"`
			UserInfo json.RawMessage `json:"user_info"`
		}
		if f.decodeData(&d) != nil {
			return nil
		}
		id := userID(d.UserID)
		if _, ok := s.members[id]; ok || s.members == nil {
			return nil
		}
		s.members[id] = d.UserInfo
		return s.push(Message{Channel: s.name, Event: EventMemberAdded, Member: &Member{ID: id, Info: d.UserInfo}})
	case evMemberRemoved:
		var d struct {
			UserID json.RawMessage `json:"user_id"`
		}
		if f.decodeData(&d) != nil {
			return nil
		}
		id := userID(d.UserID)
		info, ok := s.members[id]
		if !ok {
			return nil
		}
		delete(s.members, id)
		return s.push(Message{Channel: s.name, Event: EventMemberRemoved, Member: &Member{ID: id, Info: info}})
	}
	return s.deliver(f)
}

// onSubscribed: accepted (again); on presence channels the roster is
// replaced and, after a resume, only real changes are reported.
func (s *Subscription) onSubscribed(f frame) error {
	resumed := s.everSubscribed
	s.subscribed = true
	s.everSubscribed = true
	s.release()
	if !isPresence(s.name) {
		return nil
	}
	var d struct {
		Presence struct {
			IDs  []string                   `json:"ids"`
			Hash map[string]json.RawMessage `json:"hash"`
		} `json:"presence"`
	}
	_ = f.decodeData(&d)
	next := make(map[string]json.RawMessage, len(d.Presence.IDs))
	for _, id := range d.Presence.IDs {
		next[id] = d.Presence.Hash[id]
	}
	prev := s.members
	s.members = next
	if !resumed {
		return nil
	}
	for id, info := range prev {
		if _, ok := next[id]; !ok {
			if err := s.push(Message{Channel: s.name, Event: EventMemberRemoved, Member: &Member{ID: id, Info: info}}); err != nil {
				return err
			}
		}
	}
	for id, info := range next {
		if _, ok := prev[id]; !ok {
			if err := s.push(Message{Channel: s.name, Event: EventMemberAdded, Member: &Member{ID: id, Info: info}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliver passes a channel event on once: serials at or below the last
// one delivered (a replay overlapping live delivery) are skipped.
func (s *Subscription) deliver(f frame) error {
	if f.Serial != 0 {
		if f.Serial <= s.lastSerial {
			return nil
		}
		s.lastSerial = f.Serial
		for _, own := range s.own {
			if own == f.Serial {
				return nil
			}
		}
	}
	data := f.payload()
	if s.secret != nil {
		plain, err := decrypt(s.secret, data)
		if err != nil {
			s.c.cfg.Logger.Warn("realtime: undecryptable message dropped", "channel", s.name, "serial", f.Serial, "err", err)
			return nil
		}
		data = plain
	}
	return s.push(Message{Channel: s.name, Event: f.Event, Data: data, Serial: f.Serial, UserID: f.UserID})
}

// push queues m without blocking; s.mu held.
func (s *Subscription) push(m Message) error {
	select {
	case s.msgs <- m:
		return nil
	default:
		return ErrSlowConsumer
	}
}
