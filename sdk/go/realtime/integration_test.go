package realtime

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRealtime runs the client against one herald dev: every channel
// kind, client events, acked publishes, tokens, sign-in, close codes and
// Close's goroutine check.
func TestRealtime(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()

	t.Run("public", func(t *testing.T) {
		c := e.dial(e.config())
		s, err := c.Subscribe(ctx, "orders", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		serial, err := e.trigger("orders", "shipped", `{"id":1}`)
		if err != nil {
			t.Fatal(err)
		}
		m := next(t, s)
		if m.Event != "shipped" || string(m.Data) != `{"id":1}` || m.Serial != serial {
			t.Fatalf("got %+v, want shipped with serial %d", m, serial)
		}
	})

	t.Run("private client events and acked publish", func(t *testing.T) {
		a, b := e.dial(e.config()), e.dial(e.config())
		sa, err := a.Subscribe(ctx, "private-room", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Subscribe(ctx, "private-room", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sa.Trigger(ctx, "client-typing", map[string]bool{"on": true}); err != nil {
			t.Fatal(err)
		}
		if m := next(t, sb); m.Event != "client-typing" || string(m.Data) != `{"on":true}` {
			t.Fatalf("client event: %+v", m)
		}
		var acked []uint64
		for i := range 3 {
			serial, err := sa.Publish(ctx, "note", map[string]int{"n": i})
			if err != nil {
				t.Fatal(err)
			}
			if len(acked) > 0 && serial <= acked[len(acked)-1] {
				t.Fatalf("serial %d after %v", serial, acked)
			}
			acked = append(acked, serial)
			if m := next(t, sb); m.Serial != serial || m.Event != "note" {
				t.Fatalf("publish %d: got %+v, want serial %d", i, m, serial)
			}
		}
		stored, err := e.history("private-room")
		if err != nil {
			t.Fatal(err)
		}
		// The client event before them is stored too.
		if len(stored) != len(acked)+1 || !slices.Equal(stored[1:], acked) {
			t.Fatalf("history has %v, acked %v", stored, acked)
		}
		if err := sa.Trigger(ctx, "typing", nil); err == nil {
			t.Fatal("a client event without client- must be refused")
		}
	})

	t.Run("refused publishes", func(t *testing.T) { testRefusedPublishes(ctx, t, e) })
	t.Run("a publish id is stored once", func(t *testing.T) { testPublishIDStoredOnce(ctx, t, e) })
	t.Run("subscribing again after a slow consumer is live", func(t *testing.T) { testResubscribeAfterSlowConsumer(ctx, t, e) })

	t.Run("presence", func(t *testing.T) {
		a := e.dial(e.config())
		sa, err := a.Subscribe(ctx, "presence-lobby", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		me, ok := sa.Me()
		if !ok || me.ID != "u-"+a.SocketID() || string(me.Info) != `{"name":"go"}` {
			t.Fatalf("me = %+v, %v", me, ok)
		}
		b := e.dial(e.config())
		sb, err := b.Subscribe(ctx, "presence-lobby", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(sb.Members()); n != 2 {
			t.Fatalf("b sees %d members", n)
		}
		m := <-sa.Messages()
		if m.Event != EventMemberAdded || m.Member.ID != "u-"+b.SocketID() {
			t.Fatalf("a got %+v", m)
		}
		if err := sb.Unsubscribe(ctx); err != nil {
			t.Fatal(err)
		}
		if m := <-sa.Messages(); m.Event != EventMemberRemoved {
			t.Fatalf("a got %+v", m)
		}
	})

	t.Run("encrypted", func(t *testing.T) {
		c := e.dial(e.config())
		s, err := c.Subscribe(ctx, "private-encrypted-vault", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.trigger("private-encrypted-vault", "secret", encrypt("private-encrypted-vault", `{"pin":1234}`)); err != nil {
			t.Fatal(err)
		}
		if m := next(t, s); string(m.Data) != `{"pin":1234}` {
			t.Fatalf("decrypted %q", m.Data)
		}
	})

	t.Run("token", func(t *testing.T) {
		tok, err := e.token("tok-user", map[string][]string{"private-tok-*": {"subscribe", "publish"}, "presence-tok": {"presence"}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.config()
		cfg.Authorizer = nil
		calls := 0
		cfg.TokenProvider = func(context.Context) (string, error) { calls++; return tok, nil }
		c := e.dial(cfg)
		s, err := c.Subscribe(ctx, "private-tok-1", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Publish(ctx, "ev", "x"); err != nil {
			t.Fatal(err)
		}
		p, err := c.Subscribe(ctx, "presence-tok", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if me, ok := p.Me(); !ok || me.ID != "tok-user" {
			t.Fatalf("me = %+v", me)
		}
		_, err = c.Subscribe(ctx, "private-other", SubscribeOptions{})
		var se *SubscriptionError
		if !errors.As(err, &se) || se.Status != http.StatusForbidden {
			t.Fatalf("a channel the token does not allow: %v", err)
		}
		if calls != 1 {
			t.Fatalf("token provider called %d times", calls)
		}
	})

	t.Run("sign in", func(t *testing.T) {
		c := e.dial(e.config())
		u, err := c.SignIn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name() != "#server-to-user-user-1" {
			t.Fatalf("user channel %s", u.Name())
		}
		if _, err := e.trigger(u.Name(), "hello", "hi"); err != nil {
			t.Fatal(err)
		}
		if m := next(t, u); m.Event != "hello" {
			t.Fatalf("got %+v", m)
		}
	})

	t.Run("slow consumer closes the subscription", func(t *testing.T) {
		cfg := e.config()
		cfg.MessageBuffer = 2
		c := e.dial(cfg)
		s, err := c.Subscribe(ctx, "flood", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := e.trigger("flood", "ev", "x"); err != nil {
				t.Fatal(err)
			}
		}
		// Read nothing until the buffer has overflowed: draining while the
		// messages arrive would keep it from ever filling.
		deadline := time.Now().Add(waitFor)
		for s.Err() == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for range s.Messages() {
		}
		if !errors.Is(s.Err(), ErrSlowConsumer) {
			t.Fatalf("err = %v", s.Err())
		}
	})

	t.Run("app disabled closes with 4003 for good", func(t *testing.T) {
		other, err := e.srv.NewApp(nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.config()
		cfg.Key = other.Key
		c := e.dial(cfg)
		if err := e.srv.Admin(http.MethodPatch, "/admin/v1/apps/"+other.ID, map[string]any{"enabled": false}, nil); err != nil {
			t.Fatal(err)
		}
		sc := waitState(t, c, StateClosed)
		var ce *CloseError
		if !errors.As(sc.Err, &ce) || ce.Code != 4003 || sc.Code != 4003 {
			t.Fatalf("closed with %v (code %d)", sc.Err, sc.Code)
		}
		if _, ok := <-c.States(); ok {
			t.Fatal("states must be closed after StateClosed")
		}
	})

	t.Run("Close stops every goroutine", func(t *testing.T) {
		settleGoroutines(t, 1<<20) // nothing to wait for: just the baseline's idle connections
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond)
		before := numGoroutines()
		c := e.dial(e.config())
		s, err := c.Subscribe(ctx, "private-leak", SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Bind("ev", func(Message) {})
		if _, err := s.Publish(ctx, "ev", "x"); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-s.Messages(); ok {
			t.Fatal("messages must be closed")
		}
		if _, err := c.Publish(ctx, "private-leak", "ev", "x"); !errors.Is(err, ErrClosed) {
			t.Fatalf("publish after close: %v", err)
		}
		settleGoroutines(t, before)
	})
}

// TestRestartMidStream restarts herald while a publisher keeps going:
// every serial arrives exactly once and in order, the resume is reported,
// and publishes made while the server is down are sent when it is back.
func TestRestartMidStream(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitFor)
	defer cancel()
	// The client keeps redialing while herald is down and while it
	// starts: a starting gateway refuses the handshake with 503 until its
	// app cache is loaded (never 4001, which would end the client).
	cfg := e.config()
	c := e.dial(cfg)
	s, err := c.Subscribe(ctx, "ticks", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.Subscribe(ctx, "private-outbox", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		published []uint64
	)
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if serial, err := e.trigger("ticks", "tick", "x"); err == nil {
				mu.Lock()
				published = append(published, serial)
				mu.Unlock()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	e.srv.Stop()
	waitState(t, c, StateDisconnected)

	// Publishes while down wait in the outbox, in order.
	type result struct {
		serial uint64
		err    error
	}
	results := make([]chan result, 3)
	for i := range results {
		results[i] = make(chan result, 1)
		go func() {
			serial, err := ps.Publish(ctx, "queued", map[string]int{"n": i})
			results[i] <- result{serial, err}
		}()
		deadline := time.Now().Add(waitFor)
		for {
			c.mu.Lock()
			n := len(c.out.list)
			c.mu.Unlock()
			if n == i+1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := e.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i, ch := range results {
		r := <-ch
		if r.err != nil {
			t.Fatalf("queued publish %d: %v", i, r.err)
		}
		if r.serial <= last {
			t.Fatalf("queued publish %d has serial %d after %d", i, r.serial, last)
		}
		last = r.serial
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-pubDone

	mu.Lock()
	want := append([]uint64(nil), published...)
	mu.Unlock()
	got := map[uint64]int{}
	var prev uint64
	recovered := false
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for len(want) > 0 && got[want[len(want)-1]] == 0 {
		select {
		case m := <-s.Messages():
			if m.Event == EventResumed {
				recovered = m.Recovered
				continue
			}
			if m.Serial <= prev {
				t.Fatalf("serial %d after %d", m.Serial, prev)
			}
			prev = m.Serial
			got[m.Serial]++
		case <-timer.C:
			t.Fatalf("received %d of %d", len(got), len(want))
		}
	}
	for _, serial := range want {
		if got[serial] != 1 {
			t.Fatalf("serial %d received %d times", serial, got[serial])
		}
	}
	if r, ok := s.Recovered(); !ok || !r || !recovered {
		t.Fatalf("recovered = %v (reported %v, %v)", r, ok, recovered)
	}
	// The queued publishes reached other subscribers in order.
	other := e.dial(e.config())
	os, err := other.Subscribe(ctx, "private-outbox", SubscribeOptions{Rewind: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m := next(t, os)
		if want := `{"n":` + string(rune('0'+i)) + `}`; string(m.Data) != want {
			t.Fatalf("rewound %d: %s, want %s", i, m.Data, want)
		}
	}
}

// TestTokenRefresh keeps a token connection open past its first token's
// exp: token_expiring is answered with herald:refresh.
func TestTokenRefresh(t *testing.T) {
	const ttl = 3 * time.Second
	e := newEnv(t, "--token-expiry-notice", "2s")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var calls atomic.Int32
	cfg := e.config()
	cfg.Authorizer = nil
	cfg.TokenProvider = func(context.Context) (string, error) {
		calls.Add(1)
		return e.token("refresher", map[string][]string{"private-*": {"subscribe"}}, ttl)
	}
	c := e.dial(cfg)
	s, err := c.Subscribe(ctx, "private-refresh", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	socket := c.SocketID()
	time.Sleep(ttl + 2*time.Second)
	for len(c.States()) > 0 {
		if sc := <-c.States(); sc.Current != StateConnected {
			t.Fatalf("state changed: %+v", sc)
		}
	}
	if c.SocketID() != socket {
		t.Fatalf("reconnected: socket %s, was %s", c.SocketID(), socket)
	}
	if n := calls.Load(); n < 3 {
		t.Fatalf("token provider called %d times, want a refresh per token", n)
	}
	if _, err := e.trigger("private-refresh", "ev", "x"); err != nil {
		t.Fatal(err)
	}
	if m := next(t, s); m.Event != "ev" {
		t.Fatalf("got %+v", m)
	}
}
