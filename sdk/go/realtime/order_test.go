package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// next returns the client's next frame, whatever its event.
func (s *fakeSocket) next(t *testing.T) frame {
	t.Helper()
	select {
	case b := <-s.out:
		f, err := decodeFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("the client sent nothing")
		return frame{}
	}
}

// channelOf is the channel a subscribe or unsubscribe frame names.
func channelOf(t *testing.T, f frame) string {
	t.Helper()
	var d struct {
		Channel string `json:"channel"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("%s data %s: %v", f.Event, f.Data, err)
	}
	return d.Channel
}

// waitEnded waits until s has ended (its Messages is not read meanwhile,
// so that nothing unread makes room in its buffer).
func waitEnded(t *testing.T, s *Subscription) error {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := s.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not end", s.Name())
		}
		time.Sleep(time.Millisecond)
	}
}

type subResult struct {
	s   *Subscription
	err error
}

func subscribeAsync(c *Client, channel string) <-chan subResult {
	res := make(chan subResult, 1)
	go func() {
		s, err := c.Subscribe(context.Background(), channel, SubscribeOptions{})
		res <- subResult{s, err}
	}()
	return res
}

// Subscribing again right after ErrSlowConsumer, as the Subscription's
// doc says to, makes a live subscription: the drop's unsubscribe goes
// out before the new subscribe, and what the server still sent the old
// subscription before it read the unsubscribe never reaches the new one.
func TestResubscribeAfterSlowConsumer(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, func(c *Config) { c.MessageBuffer = 1 })
	sock := n.accept(t)
	serial := uint64(0)
	send := func(event, channel string) {
		serial++
		sock.send(event, channel, fmt.Sprint(serial), serial)
	}
	for round := range 20 {
		ch := fmt.Sprintf("news-%d", round)
		old, err := subscribeFake(t, c, sock, ch)
		if err != nil {
			t.Fatal(err)
		}
		send("burst", ch)
		send("burst", ch) // over the buffer of 1
		if err := waitEnded(t, old); !errors.Is(err, ErrSlowConsumer) {
			t.Fatalf("round %d: old ended with %v", round, err)
		}
		res := subscribeAsync(c, ch)
		first, second := sock.next(t), sock.next(t)
		if first.Event != evUnsubscribe || second.Event != evSubscribe || channelOf(t, first) != ch || channelOf(t, second) != ch {
			t.Fatalf("round %d: the client sent %s then %s, want the unsubscribe first", round, first.Event, second.Event)
		}
		// Sent before the server read the unsubscribe: the old one's.
		send("burst", ch)
		sock.send(evSubscriptionSucceeded, ch, "{}", 0)
		send("after", ch)
		r := <-res
		if r.err != nil {
			t.Fatalf("round %d: subscribe again: %v", round, r.err)
		}
		if m := <-r.s.Messages(); m.Event != "after" || m.Serial != serial {
			t.Fatalf("round %d: the new subscription got %+v first, want the message after its join", round, m)
		}
	}
}

// An Unsubscribe of a subscription that already ended sends nothing: the
// channel's newer subscription stays joined.
func TestUnsubscribeOfAnEndedSubscriptionLeavesTheNewOne(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, func(c *Config) { c.MessageBuffer = 1 })
	sock := n.accept(t)
	old, err := subscribeFake(t, c, sock, "news")
	if err != nil {
		t.Fatal(err)
	}
	sock.send("burst", "news", "1", 1)
	sock.send("burst", "news", "2", 2)
	if err := waitEnded(t, old); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("old ended with %v", err)
	}
	if f := sock.next(t); f.Event != evUnsubscribe {
		t.Fatalf("the drop sent %s", f.Event)
	}
	if _, err := subscribeFake(t, c, sock, "news"); err != nil {
		t.Fatal(err)
	}
	if err := old.Unsubscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := subscribeAsync(c, "sports")
	if f := sock.next(t); f.Event != evSubscribe || channelOf(t, f) != "sports" {
		t.Fatalf("after the old subscription's Unsubscribe the client sent %s %s", f.Event, f.Data)
	}
	sock.send(evSubscriptionSucceeded, "sports", "{}", 0)
	if r := <-res; r.err != nil {
		t.Fatal(r.err)
	}
}

// fakeServer answers subscribes and applies unsubscribes in the order the
// client sent them, as the gateway does, and records what is joined.
type fakeServer struct {
	mu     sync.Mutex
	joined map[string]bool
}

func serve(sock *fakeSocket, stop <-chan struct{}) *fakeServer {
	srv := &fakeServer{joined: map[string]bool{}}
	go func() {
		for {
			select {
			case b := <-sock.out:
				f, err := decodeFrame(b)
				if err != nil {
					continue
				}
				var d struct {
					Channel string `json:"channel"`
				}
				_ = json.Unmarshal(f.Data, &d)
				switch f.Event {
				case evSubscribe:
					srv.mu.Lock()
					srv.joined[d.Channel] = true
					srv.mu.Unlock()
					sock.send(evSubscriptionSucceeded, d.Channel, "{}", 0)
				case evUnsubscribe:
					srv.mu.Lock()
					delete(srv.joined, d.Channel)
					srv.mu.Unlock()
				}
			case <-stop:
				return
			}
		}
	}()
	return srv
}

func (srv *fakeServer) isJoined(channel string) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.joined[channel]
}

// Unsubscribe racing Subscribe on the same channel: whatever the outcome,
// the server has the channel joined exactly when the client holds a
// subscription for it.
func TestUnsubscribeRacingSubscribe(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, nil)
	stop := make(chan struct{})
	defer close(stop)
	srv := serve(n.accept(t), stop)
	ctx := context.Background()
	for round := range 200 {
		ch := fmt.Sprintf("race-%d", round)
		old, err := c.Subscribe(ctx, ch, SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var s *Subscription
		wg.Add(2)
		go func() {
			defer wg.Done()
			_ = old.Unsubscribe(ctx)
		}()
		go func() {
			defer wg.Done()
			s, err = c.Subscribe(ctx, ch, SubscribeOptions{})
		}()
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// Both calls have written their frames; the answer to a later
		// subscribe comes after the server read them.
		if _, err := c.Subscribe(ctx, fmt.Sprintf("sync-%d", round), SubscribeOptions{}); err != nil {
			t.Fatal(err)
		}
		if held := s != old; srv.isJoined(ch) != held {
			t.Fatalf("round %d: the client holds a subscription: %v, the server has the channel joined: %v", round, held, srv.isJoined(ch))
		}
	}
}

type ctxKey struct{}

// The Authorizer gets Subscribe's context: its values, and its end when
// Subscribe gives up.
func TestAuthorizerGetsSubscribesContext(t *testing.T) {
	n := newFakeNet()
	type call struct {
		value any
		err   error
	}
	started := make(chan struct{})
	calls := make(chan call, 1)
	c := fakeClient(t, n, func(c *Config) {
		c.ConnectTimeout = time.Hour
		c.Authorizer = func(ctx context.Context, _, _ string) (AuthResponse, error) {
			close(started)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			calls <- call{ctx.Value(ctxKey{}), ctx.Err()}
			return AuthResponse{}, ctx.Err()
		}
	})
	n.accept(t)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "request-1"))
	done := make(chan error, 1)
	go func() {
		_, err := c.Subscribe(ctx, "private-slow", SubscribeOptions{})
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe: %v", err)
	}
	got := <-calls
	if got.value != "request-1" || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("the authorizer saw value %v and %v, want Subscribe's context, canceled", got.value, got.err)
	}
}
