package ws_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

// testServer is an HTTP server that upgrades every request and hands the
// connection to a running Poller.
type testServer struct {
	url    string
	poller *ws.Poller
	// conns receives every connection added, with its handler.
	conns chan added
}

type added struct {
	conn    *ws.Conn
	handler *recorder
}

// recorder is a Handler that records what happens and, unless onMessage
// says otherwise, echoes text messages.
type recorder struct {
	msgs      chan string
	closes    chan error
	onClose   atomic.Int32
	onMessage func(c *ws.Conn, payload []byte)
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan string, 1024), closes: make(chan error, 4)}
}

func (r *recorder) OnMessage(c *ws.Conn, op ws.Opcode, payload []byte) {
	if op != ws.OpText {
		panic("OnMessage with " + op.String())
	}
	select {
	case r.msgs <- string(payload):
	default:
	}
	if r.onMessage != nil {
		r.onMessage(c, payload)
		return
	}
	_, _ = c.Write(ws.AppendFrame(nil, ws.OpText, true, payload))
}

func (r *recorder) OnClose(c *ws.Conn, err error) {
	r.onClose.Add(1)
	r.closes <- err
}

// waitClose returns the error OnClose received, and checks it is received
// only once.
func (r *recorder) waitClose(tb testing.TB) error {
	tb.Helper()
	select {
	case err := <-r.closes:
		if n := r.onClose.Load(); n != 1 {
			tb.Fatalf("OnClose called %d times", n)
		}
		return err
	case <-time.After(testTimeout):
		tb.Fatal("OnClose not called")
		return nil
	}
}

// startServer starts a Poller with cfg and an HTTP server in front of it.
// setup, if not nil, configures each connection's recorder.
func startServer(tb testing.TB, cfg ws.PollerConfig, setup func(*recorder)) *testServer {
	tb.Helper()
	p, err := ws.NewPoller(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	stop := testinfra.Background(tb, p.Run)
	s := &testServer{poller: p, conns: make(chan added, 2048)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, initial, err := ws.Upgrade(w, r, ws.UpgradeConfig{})
		if err != nil {
			return
		}
		h := newRecorder()
		if setup != nil {
			setup(h)
		}
		c, err := p.Add(nc, h, initial)
		if err != nil {
			tb.Errorf("Add: %v", err)
			return
		}
		s.conns <- added{c, h}
	}))
	s.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	tb.Cleanup(func() {
		hs.Close()
		stop()
		if err := p.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// dial connects a test client, closed at cleanup.
func (s *testServer) dial(tb testing.TB) *wstest.Client {
	tb.Helper()
	return dialURL(tb, s.url+"/app/key")
}

// next returns the next connection the server added.
func (s *testServer) next(tb testing.TB) added {
	tb.Helper()
	select {
	case a := <-s.conns:
		return a
	case <-time.After(testTimeout):
		tb.Fatal("no connection added")
		return added{}
	}
}

// readText reads the next frame and checks it is the text want.
func readText(tb testing.TB, c *wstest.Client, want string) {
	tb.Helper()
	op, got, err := c.ReadMessage()
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	if op != ws.OpText || string(got) != want {
		tb.Fatalf("got %v %.40q, want text %.40q", op, got, want)
	}
}

// readClose reads the close frame and checks its code, then checks the
// server closed the TCP connection.
func readClose(tb testing.TB, c *wstest.Client, wantCode uint16) string {
	tb.Helper()
	code, reason, err := c.ReadClose()
	if err != nil {
		tb.Fatalf("read close: %v", err)
	}
	if code != wantCode {
		tb.Fatalf("close code %d (%q), want %d", code, reason, wantCode)
	}
	if _, err := c.ReadFrame(); err == nil {
		tb.Fatal("frame after close")
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout") {
		tb.Fatalf("server did not close the connection: %v", err)
	}
	return reason
}

// httptestServer starts an HTTP server closed at cleanup and returns its
// URL.
func httptestServer(tb testing.TB, h http.Handler) string {
	hs := httptest.NewServer(h)
	tb.Cleanup(hs.Close)
	return hs.URL
}
