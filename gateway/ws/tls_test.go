package ws_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

// startTLSServer is startServer over TLS: the poller gets *tls.Conns,
// which the epoll poller serves through a socketpair bridge and the
// portable one reads directly.
func startTLSServer(t *testing.T, cfg ws.PollerConfig) (*ws.Poller, chan added, func() *wstest.Client) {
	t.Helper()
	p, err := ws.NewPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := testinfra.Background(t, p.Run)
	conns := make(chan added, 16)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, initial, err := ws.Upgrade(w, r, ws.UpgradeConfig{})
		if err != nil {
			return
		}
		h := newRecorder()
		c, err := p.Add(nc, h, initial)
		if err != nil {
			t.Errorf("Add(*tls.Conn): %v", err)
			return
		}
		conns <- added{c, h}
	}))
	hs.StartTLS()
	t.Cleanup(func() {
		hs.Close()
		stop()
		// Close waits for the bridges' goroutines.
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	u, _ := url.Parse("wss" + strings.TrimPrefix(hs.URL, "https") + "/app/key")
	dial := func() *wstest.Client {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		d := tls.Dialer{Config: &tls.Config{RootCAs: pool}}
		conn, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		c, err := wstest.Handshake(ctx, conn, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		t.Cleanup(func() { c.Close() })
		return c
	}
	return p, conns, dial
}

func nextAdded(t *testing.T, conns chan added) added {
	t.Helper()
	select {
	case a := <-conns:
		return a
	case <-time.After(testTimeout):
		t.Fatal("no connection added")
		return added{}
	}
}

// TestTLSBridgeEcho: messages, small and larger than the bridge's copy
// buffer, travel both ways in order; a server close reaches the client
// with its code and ends the TCP connection.
func TestTLSBridgeEcho(t *testing.T) {
	_, conns, dial := startTLSServer(t, ws.PollerConfig{})
	c := dial()
	a := nextAdded(t, conns)
	if got := a.conn.RemoteAddr().String(); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Fatalf("RemoteAddr = %q, want the TLS peer", got)
	}
	for _, msg := range []string{"hello", strings.Repeat("x", 60<<10), "after"} {
		if err := c.WriteText(msg); err != nil {
			t.Fatal(err)
		}
		readText(t, c, msg)
	}
	if err := a.conn.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	readClose(t, c, 4000)
	if err := a.handler.waitClose(t); !errors.Is(err, ws.ErrClosed) {
		t.Fatalf("OnClose(%v), want ErrClosed", err)
	}
}

// TestTLSBridgeClientHangUp: a client that drops the TLS connection ends
// the poller's connection (OnClose), so the bridge does not keep it.
func TestTLSBridgeClientHangUp(t *testing.T) {
	_, conns, dial := startTLSServer(t, ws.PollerConfig{})
	c := dial()
	a := nextAdded(t, conns)
	if err := c.WriteText("ping"); err != nil {
		t.Fatal(err)
	}
	readText(t, c, "ping")
	c.Close()
	if err := a.handler.waitClose(t); err == nil || errors.Is(err, ws.ErrClosed) {
		t.Fatalf("OnClose(%v), want a hang-up", err)
	}
	if _, err := a.conn.Write(ws.AppendFrame(nil, ws.OpText, true, []byte("late"))); err == nil {
		t.Fatal("write after the hang-up succeeded")
	}
}

// TestTLSBridgePollerClose: closing the poller closes TLS connections
// and returns (on epoll, it waits for the bridges' goroutines).
func TestTLSBridgePollerClose(t *testing.T) {
	p, conns, dial := startTLSServer(t, ws.PollerConfig{})
	c := dial()
	a := nextAdded(t, conns)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.handler.waitClose(t); err == nil {
		t.Fatal("OnClose(nil)")
	}
	// The client sees the end of the stream.
	_, err := io.ReadAll(c.NetConn())
	if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("client read after poller close: %v", err)
	}
}
