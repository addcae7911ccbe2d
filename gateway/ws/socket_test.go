package ws_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
)

// TestWriteBuffersWaitsForRoom: more frames than one writev takes, and
// more bytes than the socket holds, written while the client is not
// reading yet, all arrive whole and in order once it reads: the write
// waits for room instead of failing or cutting a frame.
func TestWriteBuffersWaitsForRoom(t *testing.T) {
	const frames = 3000
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	a := s.next(t)
	payload := make([]byte, 1<<10)
	bufs := make(net.Buffers, 0, frames)
	for i := range frames {
		bufs = append(bufs, ws.AppendFrame(nil, ws.OpText, true, append(fmt.Appendf(nil, "%06d", i), payload...)))
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.conn.WriteBuffers(bufs)
		done <- err
	}()
	// Not reading yet: the socket fills and the write waits.
	time.Sleep(100 * time.Millisecond)
	for i := range frames {
		readText(t, c, string(append(fmt.Appendf(nil, "%06d", i), payload...)))
	}
	if err := <-done; err != nil {
		t.Fatalf("WriteBuffers: %v", err)
	}
}

// TestHangUpEndsWaitingWrite: a write waiting for room in the socket of a
// client that stopped reading ends with an error as soon as the client
// goes away, not at its deadline.
func TestHangUpEndsWaitingWrite(t *testing.T) {
	s := startServer(t, ws.PollerConfig{WriteTimeout: time.Hour}, nil)
	c := s.dial(t)
	a := s.next(t)
	frame := ws.AppendFrame(nil, ws.OpText, true, make([]byte, 1<<20))
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := a.conn.Write(frame); err != nil {
				done <- err
				return
			}
		}
	}()
	// Let the socket fill, then hang up with unread data (a reset).
	time.Sleep(200 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if errors.Is(err, ws.ErrClosed) || errors.Is(err, ws.ErrInterrupted) {
			t.Fatalf("Write: %v, want the hang-up's error", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the write kept waiting after the client hung up")
	}
}

// TestRemoteAddr: a connection reports its client's address while open,
// and a client that resets its connection is logged (at debug level,
// where the address is part of the line) without the address, since the
// kernel no longer knows it.
func TestRemoteAddr(t *testing.T) {
	debug := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startServer(t, ws.PollerConfig{Logger: debug}, nil)
	c := s.dial(t)
	a := s.next(t)
	if got, want := a.conn.RemoteAddr().String(), c.NetConn().LocalAddr().String(); got != want {
		t.Fatalf("RemoteAddr = %s, want %s", got, want)
	}
	// A reset: close with a zero linger.
	if err := c.NetConn().(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := a.handler.waitClose(t); err == nil {
		t.Fatal("OnClose(nil) after a reset")
	}
}
