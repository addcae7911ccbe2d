package faultproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/faultproxy"
)

// ioTimeout bounds every read and write of the tests, far above what a
// loaded machine needs.
const ioTimeout = 10 * time.Second

// echoServer answers every line with the same line until the connection
// ends; it stops at cleanup.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(faultproxy.Config{Listen: "127.0.0.1:0", Target: echoServer(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// client is a connection through the proxy that sends and reads lines.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, p *faultproxy.Proxy) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{c: c, r: bufio.NewReader(c)}
}

// echo sends line and returns what came back (an error when the link
// ended).
func (c *client) echo(line string) (string, error) {
	_ = c.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func waitOpen(t *testing.T, p *faultproxy.Proxy, n int) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for p.Stats().Open != n {
		if time.Now().After(deadline) {
			t.Fatalf("open connections = %d, want %d", p.Stats().Open, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRelays(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p)
	for _, line := range []string{"hello", "again", string(make([]byte, 100_000))} {
		got, err := c.echo(line)
		if err != nil || got != line {
			t.Fatalf("echo of %d bytes = %d bytes, %v", len(line), len(got), err)
		}
	}
	if s := p.Stats(); s.Open != 1 || s.Accepted != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestCut: every open connection ends, and new ones work.
func TestCut(t *testing.T) {
	p := newProxy(t)
	a, b := dial(t, p), dial(t, p)
	for _, c := range []*client{a, b} {
		if _, err := c.echo("up"); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Cut(); n != 2 {
		t.Fatalf("Cut closed %d, want 2", n)
	}
	for _, c := range []*client{a, b} {
		if _, err := c.echo("after cut"); err == nil {
			t.Fatal("a cut connection still echoes")
		}
	}
	waitOpen(t, p, 0)
	if got, err := dial(t, p).echo("new"); err != nil || got != "new" {
		t.Fatalf("new connection after Cut: %q, %v", got, err)
	}
}

// TestRefuse: new connections end at once while refusing; open ones are
// left alone; Restore relays again.
func TestRefuse(t *testing.T) {
	p := newProxy(t)
	open := dial(t, p)
	if _, err := open.echo("up"); err != nil {
		t.Fatal(err)
	}
	p.Refuse(true)
	if _, err := dial(t, p).echo("refused"); err == nil {
		t.Fatal("a connection made while refusing echoes")
	}
	if got, err := open.echo("still"); err != nil || got != "still" {
		t.Fatalf("open connection while refusing: %q, %v", got, err)
	}
	if s := p.Stats(); s.Refused != 1 {
		t.Fatalf("refused = %d, want 1", s.Refused)
	}
	p.Restore()
	if got, err := dial(t, p).echo("back"); err != nil || got != "back" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
}

// TestLatency: a round trip takes at least the latency of both
// directions, and Restore takes it away (bytes keep their order).
func TestLatency(t *testing.T) {
	const up, down = 150 * time.Millisecond, 100 * time.Millisecond
	p := newProxy(t)
	c := dial(t, p)
	p.SetLatency(faultproxy.Up, up)
	p.SetLatency(faultproxy.Down, down)
	began := time.Now()
	for _, line := range []string{"one", "two", "three"} {
		if _, err := c.c.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two", "three"} {
		got, err := c.r.ReadString('\n')
		if err != nil || got != want+"\n" {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	if rtt := time.Since(began); rtt < up+down {
		t.Fatalf("round trip with latency %s, want at least %s", rtt, up+down)
	}
	p.Restore()
	if got, err := c.echo("fast"); err != nil || got != "fast" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
}

// TestClose: Close ends the connections and the listener; a second Close
// says so.
func TestClose(t *testing.T) {
	p, err := faultproxy.New(faultproxy.Config{Listen: "127.0.0.1:0", Target: echoServer(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p)
	if _, err := c.echo("up"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.echo("closed"); err == nil {
		t.Fatal("a connection echoes after Close")
	}
	if err := p.Close(); !errors.Is(err, faultproxy.ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), ioTimeout); err == nil {
		t.Fatal("the listener accepts after Close")
	}
}

func TestConfigRequired(t *testing.T) {
	if _, err := faultproxy.New(faultproxy.Config{Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("New without Target succeeded")
	}
}

// TestGroup: a group faults every proxy and sums their counts.
func TestGroup(t *testing.T) {
	g := faultproxy.Group{newProxy(t), newProxy(t)}
	a, b := dial(t, g[0]), dial(t, g[1])
	for _, c := range []*client{a, b} {
		if _, err := c.echo("up"); err != nil {
			t.Fatal(err)
		}
	}
	if s := g.Stats(); s.Open != 2 || s.Accepted != 2 {
		t.Fatalf("stats %+v", s)
	}
	g.Refuse(true)
	if n := g.Cut(); n != 2 {
		t.Fatalf("Cut closed %d, want 2", n)
	}
	for _, p := range g {
		if _, err := dial(t, p).echo("refused"); err == nil {
			t.Fatal("a connection made while the group refuses echoes")
		}
	}
	g.SetLatency(faultproxy.Down, 50*time.Millisecond)
	g.Restore()
	for _, p := range g {
		if got, err := dial(t, p).echo("back"); err != nil || got != "back" {
			t.Fatalf("after Restore: %q, %v", got, err)
		}
	}
}
