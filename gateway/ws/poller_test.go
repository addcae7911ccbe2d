package ws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestEcho(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	for _, m := range []string{"hello", "", "wörld", strings.Repeat("x", 200), strings.Repeat("y", 40000)} {
		if err := c.WriteText(m); err != nil {
			t.Fatal(err)
		}
		readText(t, c, m)
	}
	// A fragmented message with a ping in the middle.
	for _, f := range []struct {
		op  ws.Opcode
		fin bool
		p   string
	}{{ws.OpText, false, "frag"}, {ws.OpPing, true, "p"}, {ws.OpContinuation, false, "men"}, {ws.OpContinuation, true, "ted"}} {
		if err := c.WriteFrame(f.op, f.fin, []byte(f.p)); err != nil {
			t.Fatal(err)
		}
	}
	if op, p, err := c.ReadMessage(); err != nil || op != ws.OpPong || string(p) != "p" {
		t.Fatalf("want pong p, got %v %q %v", op, p, err)
	}
	readText(t, c, "fragmented")
	if st := s.poller.Stats(); st.Open != 1 || st.Added != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPingPong(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	for _, p := range []string{"", "abc", strings.Repeat("z", ws.MaxControlPayload)} {
		if err := c.WriteFrame(ws.OpPing, true, []byte(p)); err != nil {
			t.Fatal(err)
		}
		f, err := c.ReadFrame()
		if err != nil || f.Op != ws.OpPong || string(f.Payload) != p || !f.Fin {
			t.Fatalf("want pong %q, got %+v %v", p, f, err)
		}
	}
	// A pong from the client is accepted silently.
	if err := c.WriteFrame(ws.OpPong, true, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteText("still here"); err != nil {
		t.Fatal(err)
	}
	readText(t, c, "still here")
}

func TestClientClose(t *testing.T) {
	tests := []struct {
		name     string
		code     uint16
		reason   string
		wantEcho uint16
	}{
		{"with code", ws.CloseNormal, "bye", ws.CloseNormal},
		{"application code", 4000, "", 4000},
		{"without status", 0, "", ws.CloseNoStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, ws.PollerConfig{}, nil)
			c := s.dial(t)
			a := s.next(t)
			if err := c.WriteClose(tt.code, tt.reason); err != nil {
				t.Fatal(err)
			}
			readClose(t, c, tt.wantEcho)
			err := a.handler.waitClose(t)
			var ce *ws.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.wantEcho || ce.Reason != tt.reason {
				t.Fatalf("OnClose(%v), want CloseError{%d %q}", err, tt.wantEcho, tt.reason)
			}
			if _, err := a.conn.Write([]byte("x")); !errors.Is(err, ws.ErrClosed) {
				t.Fatalf("Write after close: %v", err)
			}
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		code  uint16
	}{
		{"oversize", wstest.AppendMaskedFrame(nil, ws.OpText, true, make([]byte, 2000), wstest.RandomKey()), ws.CloseMessageTooBig},
		{"oversize declared only", []byte{0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ws.CloseMessageTooBig},
		{"binary", wstest.AppendMaskedFrame(nil, ws.OpBinary, true, []byte{1, 2}, wstest.RandomKey()), ws.CloseUnsupportedData},
		{"invalid utf-8", wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte("\xc3\x28"), wstest.RandomKey()), ws.CloseInvalidPayload},
		{"unmasked", []byte{0x81, 0x01, 'x'}, ws.CloseProtocolError},
		{"bad close code", wstest.AppendMaskedFrame(nil, ws.OpClose, true, wstest.ClosePayload(1005, ""), wstest.RandomKey()), ws.CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, ws.PollerConfig{MaxMessageSize: 1000}, nil)
			c := s.dial(t)
			a := s.next(t)
			if err := c.WriteRaw(tt.frame); err != nil {
				t.Fatal(err)
			}
			readClose(t, c, tt.code)
			var pe *ws.ProtocolError
			if err := a.handler.waitClose(t); !errors.As(err, &pe) || pe.Code != tt.code {
				t.Fatalf("OnClose(%v), want a ProtocolError with code %d", err, tt.code)
			}
			if n := len(a.handler.msgs); n != 0 {
				t.Fatalf("%d messages delivered", n)
			}
			if st := s.poller.Stats(); st.ProtocolErrors != 1 || st.Open != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestPartialFrame sends a frame in two writes. The first write ends with
// a ping, so the pong proves the server read the first part before the
// rest was sent.
func TestPartialFrame(t *testing.T) {
	big := strings.Repeat("0123456789", 3000)
	for _, cut := range []int{1, 2, 5, 100, 15000} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			s := startServer(t, ws.PollerConfig{}, nil)
			c := s.dial(t)
			frame := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte(big), wstest.RandomKey())
			ping := wstest.AppendMaskedFrame(nil, ws.OpPing, true, []byte("sync"), wstest.RandomKey())
			if err := c.WriteRaw(append(ping, frame[:cut]...)); err != nil {
				t.Fatal(err)
			}
			if op, p, err := c.ReadMessage(); err != nil || op != ws.OpPong || string(p) != "sync" {
				t.Fatalf("want pong, got %v %q %v", op, p, err)
			}
			if err := c.WriteRaw(frame[cut:]); err != nil {
				t.Fatal(err)
			}
			readText(t, c, big)
		})
	}
}

// TestInitialBytes sends a frame in the same write as the handshake: the
// HTTP server reads it along with the request, and it must not be lost.
func TestInitialBytes(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, nil)
	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	req := "GET /app/key HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	early := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte("early"), wstest.RandomKey())
	if _, err := nc.Write(append([]byte(req), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
	}
	want := ws.AppendFrame(nil, ws.OpText, true, []byte("early"))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != string(want) {
		t.Fatalf("echo % x, %v", got, err)
	}
}

func TestManyConnections(t *testing.T) {
	const n = 1000
	s := startServer(t, ws.PollerConfig{}, nil)
	clients := make([]*wstest.Client, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			clients[i] = s.dial(t)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, c := range clients {
		if err := c.WriteText(fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range clients {
		readText(t, c, fmt.Sprintf("message %d", i))
	}
	if st := s.poller.Stats(); st.Open != n {
		t.Fatalf("open %d, want %d", st.Open, n)
	}
}

func TestServerClose(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		s := startServer(t, ws.PollerConfig{}, nil)
		c := s.dial(t)
		a := s.next(t)
		if err := a.conn.Close(4001, "no such app"); err != nil {
			t.Fatal(err)
		}
		// OnClose ran before Close returned.
		select {
		case err := <-a.handler.closes:
			if !errors.Is(err, ws.ErrClosed) {
				t.Fatalf("OnClose(%v), want ErrClosed", err)
			}
		default:
			t.Fatal("OnClose not called by Close on an idle connection")
		}
		if reason := readClose(t, c, 4001); reason != "no such app" {
			t.Fatalf("reason %q", reason)
		}
		if err := a.conn.Close(4002, ""); !errors.Is(err, ws.ErrClosed) || a.handler.onClose.Load() != 1 {
			t.Fatal("second Close had an effect")
		}
	})
	t.Run("from OnMessage", func(t *testing.T) {
		s := startServer(t, ws.PollerConfig{}, func(r *recorder) {
			r.onMessage = func(c *ws.Conn, p []byte) {
				if string(p) == "close me" {
					c.Close(4009, "unauthorized")
					if _, err := c.Write([]byte("x")); !errors.Is(err, ws.ErrClosed) {
						panic(fmt.Sprint("Write after Close: ", err))
					}
				}
			}
		})
		c := s.dial(t)
		a := s.next(t)
		// The second message is in the same write: it must not be
		// delivered after Close.
		frames := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte("close me"), wstest.RandomKey())
		frames = wstest.AppendMaskedFrame(frames, ws.OpText, true, []byte("too late"), wstest.RandomKey())
		if err := c.WriteRaw(frames); err != nil {
			t.Fatal(err)
		}
		readClose(t, c, 4009)
		if err := a.handler.waitClose(t); !errors.Is(err, ws.ErrClosed) {
			t.Fatalf("OnClose(%v)", err)
		}
		if n := len(a.handler.msgs); n != 1 {
			t.Fatalf("%d messages delivered, want 1", n)
		}
	})
}

func TestClientHangUp(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	a := s.next(t)
	c.Close()
	if err := a.handler.waitClose(t); !errors.Is(err, io.EOF) {
		t.Fatalf("OnClose(%v), want io.EOF", err)
	}
}

// TestCloseRaces closes connections from several goroutines while their
// clients send messages and close: OnClose must run exactly once, never
// during OnMessage (the race detector watches the recorder).
func TestCloseRaces(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, func(r *recorder) {
		r.onMessage = func(c *ws.Conn, p []byte) {}
	})
	const n = 50
	for range n {
		c := s.dial(t)
		a := s.next(t)
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 20 {
				if c.WriteText(fmt.Sprint(i)) != nil {
					return
				}
			}
			c.WriteClose(ws.CloseNormal, "")
		})
		for range 3 {
			wg.Go(func() { a.conn.Close(ws.CloseGoingAway, "") })
		}
		wg.Wait()
		a.handler.waitClose(t)
	}
	testinfra.WaitUntil(t, "every connection closed", func() bool { return s.poller.Stats().Open == 0 })
}

// TestPongsDoNotInterleave answers pings while a writer goroutine sends big
// frames: every frame the client reads must be intact.
func TestPongsDoNotInterleave(t *testing.T) {
	const frames = 200
	payload := strings.Repeat("w", 20000)
	s := startServer(t, ws.PollerConfig{}, func(r *recorder) {
		r.onMessage = func(c *ws.Conn, p []byte) {
			go func() {
				frame := ws.AppendFrame(nil, ws.OpText, true, []byte(payload))
				for range frames {
					if _, err := c.WriteBuffers(net.Buffers{frame[:3], frame[3:]}); err != nil {
						return
					}
				}
			}()
		}
	})
	c := s.dial(t)
	if err := c.WriteText("go"); err != nil {
		t.Fatal(err)
	}
	const pings = 100
	go func() {
		for i := range pings {
			if c.WriteFrame(ws.OpPing, true, []byte(fmt.Sprint(i))) != nil {
				return
			}
		}
	}()
	readTextsAndPongs(t, c, frames, payload, fmt.Sprint(pings-1))
}

// readTextsAndPongs reads until it has seen texts frames holding payload
// and the pong answering the ping lastPong, failing on any other frame:
// a pong written inside a text frame would show as one.
func readTextsAndPongs(t *testing.T, c *wstest.Client, texts int, payload, lastPong string) {
	t.Helper()
	got, pong := 0, ""
	for got < texts || pong != lastPong {
		f, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("after %d frames, pong %q: %v", got, pong, err)
		}
		switch {
		case f.Op == ws.OpText && string(f.Payload) == payload:
			got++
		case f.Op == ws.OpPong:
			pong = string(f.Payload)
		default:
			t.Fatalf("unexpected frame %v of %d bytes", f.Op, len(f.Payload))
		}
	}
}

func TestWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := startServer(t, ws.PollerConfig{WriteTimeout: timeout, ControlWriteTimeout: timeout}, nil)
	c := s.dial(t)
	a := s.next(t)
	_ = c // never read: the server's writes fill the socket buffers
	frame := ws.AppendFrame(nil, ws.OpText, true, make([]byte, 1<<20))
	start := time.Now()
	var err error
	for range 1000 {
		if _, err = a.conn.Write(frame); err != nil {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write: %v, want a deadline error", err)
	}
	if _, again := a.conn.Write([]byte("x")); again == nil {
		t.Fatal("Write after a failed write succeeded")
	}
	closeStart := time.Now()
	a.conn.Close(4100, "slow consumer")
	if d := time.Since(closeStart); d > testTimeout/2 {
		t.Fatalf("Close took %v", d)
	}
	if err := a.handler.waitClose(t); !errors.Is(err, ws.ErrClosed) {
		t.Fatalf("OnClose(%v)", err)
	}
	t.Logf("write failed after %v", time.Since(start))
}

func TestPollerClose(t *testing.T) {
	for _, how := range []string{"Close", "context"} {
		t.Run(how, func(t *testing.T) {
			p, err := ws.NewPoller(ws.PollerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ran := make(chan error, 1)
			go func() { ran <- p.Run(ctx) }()
			recs := make(chan *recorder, 3)
			u := newUpgradeServer(t, func(w http.ResponseWriter, r *http.Request) {
				nc, initial, err := ws.Upgrade(w, r, ws.UpgradeConfig{})
				if err != nil {
					return
				}
				h := newRecorder()
				if _, err := p.Add(nc, h, initial); err != nil {
					t.Errorf("Add: %v", err)
				}
				recs <- h
			})
			var clients []*wstest.Client
			var handlers []*recorder
			for range 3 {
				clients = append(clients, dialURL(t, u))
				handlers = append(handlers, <-recs) // Add has returned
			}
			// An echo proves Run is serving: closing before its goroutine
			// started would make it return ErrPollerClosed, not stop it.
			if err := clients[0].WriteText("up"); err != nil {
				t.Fatal(err)
			}
			readText(t, clients[0], "up")
			if how == "Close" {
				if err := p.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				cancel()
			}
			if err := <-ran; err != nil {
				t.Fatalf("Run: %v", err)
			}
			for i, c := range clients {
				readClose(t, c, ws.CloseGoingAway)
				if err := handlers[i].waitClose(t); !errors.Is(err, ws.ErrPollerClosed) {
					t.Fatalf("OnClose(%v)", err)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			a, b := testinfra.TCPPair(t)
			defer b.Close()
			if _, err := p.Add(a, newRecorder(), nil); !errors.Is(err, ws.ErrPollerClosed) {
				t.Fatalf("Add after Close: %v", err)
			}
			if err := p.Run(context.Background()); !errors.Is(err, ws.ErrPollerClosed) {
				t.Fatalf("Run after Close: %v", err)
			}
		})
	}
}

// TestPollerCloseWithoutRun closes a poller that never ran, holding a
// connection whose initial bytes are queued for a worker.
func TestPollerCloseWithoutRun(t *testing.T) {
	p, err := ws.NewPoller(ws.PollerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	server, client := testinfra.TCPPair(t)
	h := newRecorder()
	initial := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte("queued"), wstest.RandomKey())
	if _, err := p.Add(server, h, initial); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.waitClose(t); !errors.Is(err, ws.ErrPollerClosed) {
		t.Fatalf("OnClose(%v)", err)
	}
	if len(h.msgs) != 0 {
		t.Fatal("message delivered without Run")
	}
	want := ws.AppendClose(nil, ws.CloseGoingAway, "server shutting down")
	got := make([]byte, len(want))
	if err := client.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(client, got); err != nil || string(got) != string(want) {
		t.Fatalf("read % x, %v; want % x", got, err, want)
	}
}

func newUpgradeServer(tb testing.TB, h http.HandlerFunc) string {
	tb.Helper()
	hs := httptestServer(tb, h)
	return "ws" + strings.TrimPrefix(hs, "http")
}
