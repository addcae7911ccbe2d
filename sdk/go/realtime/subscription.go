package realtime

import (
	"context"
	"encoding/json"
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
	// Serial is the message's position in the app's stream, as history
	// and resume know it: every stored message has one, client events
	// included; channel-level events have 0. Serials are app-wide, so a
	// channel's serials increase with gaps: serial+1 is not the channel's
	// next message.
	Serial uint64
	// UserID is the sender of a client event on a presence channel.
	UserID string
	// Recovered is set on EventResumed.
	Recovered bool
	// Reset is set on an EventResumed whose position no longer exists
	// (the server's stream was reset): the subscription forgot it and
	// goes on with the live messages, whatever their serials. Recovered
	// is false; refetch the channel's state.
	Reset bool
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
// the last message read via History if needed: the new Subscription
// starts with the messages published after it was accepted, never one
// meant for the old one.
type Subscription struct {
	c           *Client
	name        string
	opts        SubscribeOptions
	userChannel bool
	msgs        chan Message
	ready       chan struct{}
	// life ends when the subscription does, and with it an authorization
	// in flight.
	life    context.Context
	endLife context.CancelFunc

	mu sync.Mutex
	// caller is the context of the Subscribe call that made the
	// subscription, for the authorization, until the first answer.
	caller         context.Context
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
	ownSinceJoin   int // how many of own were noted since the last subscription_succeeded
	handlers       map[string][]func(Message)
	dispatching    bool
}

func newSubscription(c *Client, channel string, opts SubscribeOptions, user bool, caller context.Context) *Subscription {
	life, end := context.WithCancel(context.Background())
	return &Subscription{
		c: c, name: channel, opts: opts, userChannel: user,
		msgs:  make(chan Message, c.cfg.MessageBuffer),
		ready: make(chan struct{}),
		life:  life, endLife: end,
		caller: caller,
	}
}

// callerContext is the waiting Subscribe call's context, nil once the
// subscription was answered.
func (s *Subscription) callerContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caller
}

// setMyID reads this connection's presence user id from channel_data.
func (s *Subscription) setMyID(channelData string) {
	var cd struct {
		UserID json.RawMessage `json:"user_id"`
	}
	if json.Unmarshal([]byte(channelData), &cd) != nil {
		return
	}
	s.mu.Lock()
	s.myID = userID(cd.UserID)
	s.mu.Unlock()
}

// current reports whether s is its channel's subscription, not one that
// ended.
func (s *Subscription) current() bool {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.subs[s.name] == s
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
// subscribers, not echoed back: on private and presence channels (never
// private-encrypted), or on any channel but encrypted and user ones when
// the connection's token allows publishing there. The server stores it,
// with a serial, like any message. It is not acked: use Publish to know
// it was stored. A refusal the client can tell in advance is
// ErrNotAllowed; the server's comes as a non-fatal pusher:error.
func (s *Subscription) Trigger(ctx context.Context, event string, data any) error {
	if !strings.HasPrefix(event, "client-") {
		return fmt.Errorf("realtime: client event %q must start with client-: %w", event, ErrNotAllowed)
	}
	if err := s.c.mayPublish(s.name); err != nil {
		return err
	}
	if !s.current() {
		return fmt.Errorf("realtime: trigger on %s: the subscription ended: %w", s.name, ErrNotSubscribed)
	}
	l, err := s.c.current(ctx)
	if err != nil {
		return err
	}
	return s.c.send(l, event, s.name, data)
}

// Publish is Client.Publish on this channel; once the subscription ended
// it fails with ErrNotSubscribed.
func (s *Subscription) Publish(ctx context.Context, event string, data any, opts ...PublishOption) (uint64, error) {
	if !s.current() {
		return 0, fmt.Errorf("realtime: publish on %s: the subscription ended: %w", s.name, ErrNotSubscribed)
	}
	return s.c.Publish(ctx, s.name, event, data, opts...)
}

func isPresence(name string) bool    { return strings.HasPrefix(name, "presence-") }
func isEncrypted(name string) bool   { return strings.HasPrefix(name, "private-encrypted-") }
func isUserChannel(name string) bool { return strings.HasPrefix(name, userChannelPrefix) }
func needsAuth(name string) bool {
	return strings.HasPrefix(name, "private-") || isPresence(name)
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

// close ends the subscription: Messages is closed, waiters are released.
func (s *Subscription) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	s.endLife()
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
	s.ownSinceJoin++
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
			Reset     bool `json:"reset"`
		}
		_ = f.decodeData(&d)
		reset := d.Reset && !d.Recovered
		if reset {
			s.forgetPosition()
		}
		s.recovered = &d.Recovered
		s.lostAt = time.Time{}
		return s.push(Message{Channel: s.name, Event: EventResumed, Recovered: d.Recovered, Reset: reset})
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
	s.caller = nil
	s.ownSinceJoin = 0
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

// forgetPosition: the resume position is beyond everything the server
// stores (its stream was reset), so new serials are lower. Keeping it, or
// the serials of own publishes acked before this join, would hide every
// new message. s.mu held.
func (s *Subscription) forgetPosition() {
	s.lastSerial = 0
	keep := min(s.ownSinceJoin, len(s.own))
	s.own = append([]uint64(nil), s.own[len(s.own)-keep:]...)
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
