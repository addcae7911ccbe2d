package platform

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestListenerTimeouts: the listener's server takes the configured header
// and idle timeouts (zero takes the defaults), and a kept-alive connection
// that sends no next request is closed after the idle timeout.
func TestListenerTimeouts(t *testing.T) {
	const idle = 150 * time.Millisecond
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	defaults := (&Platform{cfg: Config{Logger: logger}}).newServer(http.NotFoundHandler())
	if defaults.ReadHeaderTimeout != DefaultReadHeaderTimeout || defaults.IdleTimeout != DefaultIdleTimeout {
		t.Fatalf("defaults: header %v idle %v, want %v and %v", defaults.ReadHeaderTimeout, defaults.IdleTimeout, DefaultReadHeaderTimeout, DefaultIdleTimeout)
	}

	p := &Platform{cfg: Config{Logger: logger, Limits: LimitsConfig{HeaderTimeout: 3 * time.Second, IdleTimeout: idle}}}
	srv := p.newServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	if srv.ReadHeaderTimeout != 3*time.Second {
		t.Fatalf("header timeout %v, want 3s", srv.ReadHeaderTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * idle))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("first request: %d close=%v, want 200 kept alive", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	if _, err := r.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("idle connection: read %v, want it closed by the server", err)
	}
	if took := time.Since(start); took < idle/2 {
		t.Fatalf("closed after %v, before the idle timeout of %v", took, idle)
	}
}
