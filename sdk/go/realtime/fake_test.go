package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNet is an in-memory gateway: each dial makes a fakeSocket the test
// drives. While down, dials fail.
type fakeNet struct {
	mu     sync.Mutex
	down   bool
	urls   []string
	socks  chan *fakeSocket
	socket int
}

func newFakeNet() *fakeNet { return &fakeNet{socks: make(chan *fakeSocket, 16)} }

func (n *fakeNet) setDown(down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = down
}

func (n *fakeNet) dial(_ context.Context, url string, _ http.Header) (Socket, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return nil, errors.New("network down")
	}
	n.socket++
	n.urls = append(n.urls, url)
	s := &fakeSocket{in: make(chan []byte, 64), out: make(chan []byte, 64), closed: make(chan struct{})}
	s.in <- []byte(`{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.` + string(rune('0'+n.socket)) + `\",\"activity_timeout\":120}"}`)
	n.socks <- s
	return s, nil
}

// accept waits for the client's next socket.
func (n *fakeNet) accept(t *testing.T) *fakeSocket {
	t.Helper()
	select {
	case s := <-n.socks:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not dial")
		return nil
	}
}

// noDial checks that the client does not dial within d.
func (n *fakeNet) noDial(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-n.socks:
		t.Fatal("the client dialed again")
	case <-time.After(d):
	}
}

type fakeSocket struct {
	in, out chan []byte
	once    sync.Once
	closed  chan struct{}
	code    int
}

type fakeCloseErr struct{ code int }

func (e fakeCloseErr) Error() string { return "closed" }

func (s *fakeSocket) Read(ctx context.Context) ([]byte, error) {
	// What the server sent before closing is read first, as on a real
	// socket: a select would pick at random when both are ready.
	select {
	case b := <-s.in:
		return b, nil
	default:
	}
	select {
	case b := <-s.in:
		return b, nil
	case <-s.closed:
		return nil, fakeCloseErr{s.code}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *fakeSocket) Write(ctx context.Context, b []byte) error {
	select {
	case <-s.closed:
		return errors.New("closed")
	default:
	}
	select {
	case s.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fakeSocket) Close(code int, _ string) error {
	s.closeWith(code)
	return nil
}

func (s *fakeSocket) closeWith(code int) {
	s.once.Do(func() {
		s.code = code
		close(s.closed)
	})
}

func (s *fakeSocket) CloseCode(err error) int {
	var ce fakeCloseErr
	if errors.As(err, &ce) && ce.code != 0 {
		return ce.code
	}
	return -1
}

// expect reads the client's frames until one with event, and returns it.
func (s *fakeSocket) expect(t *testing.T, event string) frame {
	t.Helper()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	for {
		select {
		case b := <-s.out:
			f, err := decodeFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.Event == event {
				return f
			}
		case <-timer.C:
			t.Fatalf("no %s from the client", event)
		}
	}
}

func (s *fakeSocket) send(event, channel, data string, serial uint64) {
	b, _ := json.Marshal(frame{Event: event, Channel: channel, Data: json.RawMessage(mustJSON(data)), Serial: serial})
	s.in <- b
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func fakeClient(t *testing.T, n *fakeNet, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{Host: "fake", Key: "k", Dialer: n.dial, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Connect()
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestHeartbeatDropsASilentConnection(t *testing.T) {
	before := numGoroutines()
	n := newFakeNet()
	c := fakeClient(t, n, func(c *Config) {
		c.Heartbeat = 30 * time.Millisecond
		c.PongTimeout = 30 * time.Millisecond
	})
	first := n.accept(t)
	first.expect(t, evPing) // and never answer
	sc := waitState(t, c, StateDisconnected)
	if !errors.Is(sc.Err, errHeartbeatTimeout) {
		t.Fatalf("disconnected with %v", sc.Err)
	}
	second := n.accept(t)
	second.expect(t, evPing)
	second.send(evPong, "", "{}", 0)
	if c.State() == StateClosed {
		t.Fatal("closed")
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sc := waitState(t, c, StateClosed); sc.Err != nil {
		t.Fatalf("closed with %v", sc.Err)
	}
	settleGoroutines(t, before)
}

func TestCloseCodes(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		provider  bool
		reconnect bool
	}{
		{name: "4001 app not found: for good", code: 4001},
		{name: "4003 app disabled: for good", code: 4003},
		{name: "4009 without a token provider: for good", code: 4009},
		{name: "4009 with a token provider: once more", code: 4009, provider: true, reconnect: true},
		{name: "4100 over capacity: after a backoff", code: 4100, reconnect: true},
		{name: "4200 going away: at once", code: 4200, reconnect: true},
		{name: "4201 pong timeout: at once", code: 4201, reconnect: true},
		{name: "1006 abnormal: after a backoff", code: 1006, reconnect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newFakeNet()
			tokens := 0
			c := fakeClient(t, n, func(c *Config) {
				if tt.provider {
					c.TokenProvider = func(context.Context) (string, error) {
						tokens++
						return "t" + string(rune('0'+tokens)), nil
					}
				}
			})
			s := n.accept(t)
			waitState(t, c, StateConnected)
			s.send(evError, "", `{"code":`+itoa(tt.code)+`,"message":"bye"}`, 0)
			s.closeWith(tt.code)
			if !tt.reconnect {
				sc := waitState(t, c, StateClosed)
				var ce *CloseError
				if !errors.As(sc.Err, &ce) || ce.Code != tt.code || !strings.Contains(ce.Message, "bye") {
					t.Fatalf("closed with %v", sc.Err)
				}
				n.noDial(t, 100*time.Millisecond)
				return
			}
			start := time.Now()
			n.accept(t)
			if tt.code >= 4100 && tt.code < 4200 && time.Since(start) < minOverCapacityWait {
				t.Fatalf("4100 reconnected after %s", time.Since(start))
			}
			if tt.provider {
				n.mu.Lock()
				url := n.urls[1]
				n.mu.Unlock()
				if !strings.Contains(url, "token=t2") {
					t.Fatalf("reconnected with %s, want a fresh token", url)
				}
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestPrivateChannelNeedsAuthorizerOrToken(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, nil)
	n.accept(t)
	_, err := c.Subscribe(context.Background(), "private-a", SubscribeOptions{})
	var se *SubscriptionError
	if !errors.As(err, &se) || se.Type != "AuthError" {
		t.Fatalf("a private channel without Authorizer nor token: %v", err)
	}
}

// fakeAuthorizer signs every channel with a signature the fake ignores.
func fakeAuthorizer(context.Context, string, string) (AuthResponse, error) {
	return AuthResponse{Auth: "k:sig"}, nil
}

func TestOutboxAcrossADisconnect(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, func(c *Config) {
		c.OutboxSize = 2
		c.Authorizer = fakeAuthorizer
	})
	ctx := context.Background()
	first := n.accept(t)
	pub, err := subscribeFake(t, c, first, "private-chat")
	if err != nil {
		t.Fatal(err)
	}
	first.send("msg", "private-chat", "a", 5)
	if m := <-pub.Messages(); m.Serial != 5 {
		t.Fatalf("got %+v", m)
	}
	n.setDown(true)
	first.closeWith(1006)
	waitState(t, c, StateDisconnected)

	type result struct {
		serial uint64
		err    error
	}
	results := make(chan result, 2)
	for i := range 2 {
		go func() {
			serial, err := c.Publish(ctx, "private-chat", "ev", i)
			results <- result{serial, err}
		}()
		waitOutbox(t, c, i+1)
	}
	if _, err := c.Publish(ctx, "private-chat", "ev", 3); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("third publish: %v, want ErrOutboxFull", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	c.mu.Lock()
	c.out.max = 3
	c.mu.Unlock()
	if _, err := c.Publish(short, "private-chat", "ev", 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("publish past its deadline: %v", err)
	}

	n.setDown(false)
	second := n.accept(t)
	sub := second.expect(t, evSubscribe)
	if !strings.Contains(string(sub.Data), `"resume_from":5`) {
		t.Fatalf("resubscribe %s, want resume_from 5", sub.Data)
	}
	second.send(evSubscriptionSucceeded, "private-chat", "{}", 0)
	second.send(evResumeResult, "private-chat", `{"recovered":true}`, 0)
	for i := range 2 {
		p := second.expect(t, evPublish)
		var d struct {
			ID   string          `json:"id"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(p.Data, &d)
		if string(d.Data) != itoa(i) {
			t.Fatalf("publish %d sent %s", i, d.Data)
		}
		second.send(evAck, "", `{"id":"`+d.ID+`","serial":`+itoa(10+i)+`}`, 0)
	}
	got := map[uint64]bool{}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		got[r.serial] = true
	}
	if !got[10] || !got[11] {
		t.Fatalf("serials %v", got)
	}
	if m := <-pub.Messages(); m.Event != EventResumed || !m.Recovered {
		t.Fatalf("got %+v, want the resume", m)
	}
	// A replay of our own publish is not delivered back; a later one is.
	second.send("ev", "private-chat", "0", 10)
	second.send("ev", "private-chat", "x", 12)
	if m := <-pub.Messages(); m.Serial != 12 {
		t.Fatalf("got %+v, want serial 12", m)
	}
}

// subscribeFake subscribes to channel on the fake socket.
func subscribeFake(t *testing.T, c *Client, s *fakeSocket, channel string) (*Subscription, error) {
	t.Helper()
	type res struct {
		s   *Subscription
		err error
	}
	ch := make(chan res, 1)
	go func() {
		sub, err := c.Subscribe(context.Background(), channel, SubscribeOptions{})
		ch <- res{sub, err}
	}()
	s.expect(t, evSubscribe)
	s.send(evSubscriptionSucceeded, channel, "{}", 0)
	r := <-ch
	return r.s, r.err
}

func waitOutbox(t *testing.T, c *Client, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.out.list)
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox has %d, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
