package ws_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
)

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455 section 1.3.
	if got := ws.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
}

func TestUpgradeHandshake(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	valid := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n"
	tests := []struct {
		name       string
		request    string // request line and headers after Host, without the final CRLF
		status     int
		wantHeader [2]string
	}{
		{"valid", "GET / HTTP/1.1\r\n" + valid, http.StatusSwitchingProtocols, [2]string{"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}},
		{"header case and lists", "GET / HTTP/1.1\r\nupgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\nsec-websocket-version: 13\r\nsec-websocket-key:  " + key + " \r\n",
			http.StatusSwitchingProtocols, [2]string{"Upgrade", "websocket"}},
		{"repeated Connection header", "GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n",
			http.StatusSwitchingProtocols, [2]string{}},
		{"POST", "POST / HTTP/1.1\r\nContent-Length: 0\r\n" + valid, http.StatusMethodNotAllowed, [2]string{"Allow", "GET, HEAD"}},
		// A HEAD is answered as a GET without an upgrade is, and never
		// upgrades (RFC 9110, RFC 6455).
		{"HEAD", "HEAD / HTTP/1.1\r\n" + valid, http.StatusUpgradeRequired, [2]string{"Upgrade", "websocket"}},
		{"HEAD without upgrade headers", "HEAD / HTTP/1.1\r\n", http.StatusUpgradeRequired, [2]string{"Connection", "Upgrade"}},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n" + valid, http.StatusBadRequest, [2]string{}},
		{"no Upgrade header", "GET / HTTP/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n",
			http.StatusUpgradeRequired, [2]string{"Upgrade", "websocket"}},
		{"upgrade to something else", "GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n",
			http.StatusUpgradeRequired, [2]string{}},
		{"Connection without upgrade", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n",
			http.StatusUpgradeRequired, [2]string{}},
		{"version 8", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " + key + "\r\n",
			http.StatusUpgradeRequired, [2]string{"Sec-WebSocket-Version", "13"}},
		{"no version", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\n",
			http.StatusUpgradeRequired, [2]string{"Sec-WebSocket-Version", "13"}},
		{"no key", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", http.StatusBadRequest, [2]string{}},
		{"key not base64", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not*base64*at*all*xxxx==\r\n",
			http.StatusBadRequest, [2]string{}},
		{"key of 15 bytes", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n",
			http.StatusBadRequest, [2]string{}},
		{"two keys", "GET / HTTP/1.1\r\n" + valid + "Sec-WebSocket-Key: " + key + "\r\n", http.StatusBadRequest, [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := make(chan error, 1)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nc, _, err := ws.Upgrade(w, r, ws.UpgradeConfig{Header: http.Header{"X-Herald": {"1"}}})
				errs <- err
				if err == nil {
					nc.Close()
				}
			}))
			defer hs.Close()
			nc, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if err := nc.SetDeadline(time.Now().Add(testTimeout)); err != nil {
				t.Fatal(err)
			}
			line, rest, _ := strings.Cut(tt.request, "\r\n")
			if _, err := nc.Write([]byte(line + "\r\nHost: x\r\n" + rest + "\r\n")); err != nil {
				t.Fatal(err)
			}
			// The answer to a HEAD has no body, whatever its Content-Length.
			resp, err := http.ReadResponse(bufio.NewReader(nc), &http.Request{Method: strings.Fields(line)[0]})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if h := tt.wantHeader; h[0] != "" && resp.Header.Get(h[0]) != h[1] {
				t.Fatalf("header %s = %q, want %q", h[0], resp.Header.Get(h[0]), h[1])
			}
			err = <-errs
			if tt.status == http.StatusSwitchingProtocols {
				if err != nil || resp.Header.Get("X-Herald") != "1" {
					t.Fatalf("Upgrade: %v, headers %v", err, resp.Header)
				}
			} else if !errors.Is(err, ws.ErrBadHandshake) {
				t.Fatalf("Upgrade error %v, want ErrBadHandshake", err)
			}
		})
	}
}

// TestUpgradeClearsServerDeadlines checks that the http.Server's read
// timeout does not apply to the upgraded connection: with a ReadTimeout of
// 1ns the server's deadline has passed when the handler runs.
func TestUpgradeClearsServerDeadlines(t *testing.T) {
	conns := make(chan net.Conn, 1)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _, err := ws.Upgrade(w, r, ws.UpgradeConfig{})
		if err != nil {
			t.Error(err)
			return
		}
		conns <- nc
	}))
	hs.Config.ReadHeaderTimeout = testTimeout
	hs.Config.ReadTimeout = time.Nanosecond
	hs.Start()
	defer hs.Close()
	c := dialURL(t, "ws"+strings.TrimPrefix(hs.URL, "http"))
	nc := <-conns
	defer nc.Close()
	if err := c.WriteText("late"); err != nil {
		t.Fatal(err)
	}
	// No deadline of our own: a deadline left by the server fails at once.
	buf := make([]byte, 16)
	if n, err := nc.Read(buf); err != nil || n == 0 {
		t.Fatalf("read after the server's read timeout: %d, %v", n, err)
	}
}

// writeCounter counts the writes made to the connections it accepts.
type writeCounter struct {
	net.Listener
	writes chan int
}

func (l *writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, writes: l.writes}, nil
}

type countedConn struct {
	net.Conn
	writes chan int
}

func (c *countedConn) Write(b []byte) (int, error) {
	c.writes <- len(b)
	return c.Conn.Write(b)
}

// TestAcceptSendsResponseAndFramesInOneWrite: the 101 response and the
// server's first frames leave in a single write.
func TestAcceptSendsResponseAndFramesInOneWrite(t *testing.T) {
	hello := ws.AppendFrame(nil, ws.OpText, true, []byte(`{"event":"hello"}`))
	writes := make(chan int, 8)
	sent := make(chan error, 1)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := ws.Accept(w, r, ws.UpgradeConfig{})
		if err != nil {
			sent <- err
			return
		}
		sent <- a.Send(hello)
		_ = a.Conn.Close()
	}))
	ln := hs.Listener
	hs.Listener = &writeCounter{Listener: ln, writes: writes}
	hs.Start()
	defer hs.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "HTTP/1.1 101 ") || !strings.HasSuffix(string(got), string(hello)) {
		t.Fatalf("the client read %q", got)
	}
	if len(writes) != 1 {
		t.Fatalf("%d writes; want the response and the frame in one", len(writes))
	}
	if n := <-writes; n != len(got) {
		t.Fatalf("the write carried %d of the %d bytes", n, len(got))
	}
}
