package ws_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
)

// writeNowOrWrite is how the gateway writes: WriteNow, and Write when the
// socket could not take the frame now or something is left for Write.
func writeNowOrWrite(c *ws.Conn, frame []byte) error {
	written, flush, err := c.WriteNow(frame)
	switch {
	case err != nil:
		return err
	case !written:
		_, err = c.Write(frame)
	case flush:
		_, err = c.Write(nil)
	}
	return err
}

// TestWriteNowWholeFrame: a frame WriteNow writes reaches the client, and
// nothing is left for Write.
func TestWriteNowWholeFrame(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	a := s.next(t)
	for i := range 3 {
		written, flush, err := a.conn.WriteNow(ws.AppendFrame(nil, ws.OpText, true, fmt.Appendf(nil, "m%d", i)))
		if err != nil || written != writesNow || flush {
			t.Fatalf("WriteNow = %v, %v, %v; want written %v, nothing left", written, flush, err, writesNow)
		}
		if !written {
			if _, err := a.conn.Write(ws.AppendFrame(nil, ws.OpText, true, fmt.Appendf(nil, "m%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 3 {
		readText(t, c, fmt.Sprintf("m%d", i))
	}
}

// TestWriteNowFullSocket: against a client that stops reading, WriteNow
// never blocks; once the socket is full it writes part of a frame and
// keeps the rest for Write, or writes nothing, and refuses to write more
// while a rest waits. A pong the client asks for meanwhile never lands
// inside the cut frame. Reading again, the client gets every frame
// WriteNow or Write accepted, whole and in order, then the pong.
func TestWriteNowFullSocket(t *testing.T) {
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	a := s.next(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<10) // 16 KiB
	var sent int
	cut := false
	for !cut {
		frame := ws.AppendFrame(nil, ws.OpText, true, append(fmt.Appendf(nil, "%06d", sent), payload...))
		start := time.Now()
		written, flush, err := a.conn.WriteNow(frame)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("WriteNow blocked for %v", d)
		}
		if written {
			sent++
		}
		cut = !written || flush
		if sent > 10000 {
			t.Fatal("the socket never filled up")
		}
	}
	// Whatever is waiting (a frame's rest) goes first: WriteNow refuses.
	if written, _, err := a.conn.WriteNow(ws.AppendFrame(nil, ws.OpText, true, []byte("later"))); written || err != nil {
		if written {
			sent++
		}
		t.Logf("WriteNow after the socket filled: written %v, err %v", written, err)
	}
	if err := c.WriteFrame(ws.OpPing, true, []byte("p")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		// Write waits for the client: it sends the rest, then a last frame.
		_, err := a.conn.Write(ws.AppendFrame(nil, ws.OpText, true, []byte("last")))
		done <- err
	}()
	var got int
	pong := false
	for {
		f, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("after %d frames: %v", got, err)
		}
		if f.Op == ws.OpPong {
			pong = true
			continue
		}
		if f.Op != ws.OpText || !f.Fin {
			t.Fatalf("frame %d: %v fin=%v", got, f.Op, f.Fin)
		}
		if string(f.Payload) == "last" {
			break
		}
		if want := fmt.Sprintf("%06d", got); len(f.Payload) != len(payload)+6 || string(f.Payload[:6]) != want {
			t.Fatalf("frame %d: %q… of %d bytes, want %s…", got, f.Payload[:min(6, len(f.Payload))], len(f.Payload), want)
		}
		got++
	}
	if got != sent {
		t.Fatalf("read %d frames before the last, WriteNow accepted %d", got, sent)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !pong {
		// The pong goes with the next write at the latest.
		if _, err := a.conn.Write(nil); err != nil {
			t.Fatal(err)
		}
		if f, err := c.ReadFrame(); err != nil || f.Op != ws.OpPong {
			t.Fatalf("no pong: %v %v", f.Op, err)
		}
	}
}

// TestWriteNowRefusals: after Close or InterruptWrite, WriteNow writes
// nothing and says why, as Write does.
func TestWriteNowRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(*ws.Conn)
		want error
	}{
		{"Close", func(c *ws.Conn) { _ = c.Close(1000, "") }, ws.ErrClosed},
		{"InterruptWrite", (*ws.Conn).InterruptWrite, ws.ErrInterrupted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, ws.PollerConfig{}, nil)
			s.dial(t)
			a := s.next(t)
			tc.end(a.conn)
			written, _, err := a.conn.WriteNow(ws.AppendFrame(nil, ws.OpText, true, []byte("x")))
			if written || !errors.Is(err, tc.want) {
				t.Fatalf("WriteNow = %v, %v; want %v", written, err, tc.want)
			}
		})
	}
}

// TestWriteNowAfterWriteDeadline: a deadline an earlier Write set, now
// past, does not make WriteNow fail: it bounded that write only.
func TestWriteNowAfterWriteDeadline(t *testing.T) {
	const timeout = 50 * time.Millisecond
	s := startServer(t, ws.PollerConfig{WriteTimeout: timeout}, nil)
	c := s.dial(t)
	a := s.next(t)
	if _, err := a.conn.Write(ws.AppendFrame(nil, ws.OpText, true, []byte("first"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * timeout)
	written, flush, err := a.conn.WriteNow(ws.AppendFrame(nil, ws.OpText, true, []byte("second")))
	if err != nil || written != writesNow || flush {
		t.Fatalf("WriteNow = %v, %v, %v; want written %v", written, flush, err, writesNow)
	}
	if !written {
		if _, err := a.conn.Write(ws.AppendFrame(nil, ws.OpText, true, []byte("second"))); err != nil {
			t.Fatal(err)
		}
	}
	// And a blocking write after it gets a deadline again.
	if _, err := a.conn.Write(ws.AppendFrame(nil, ws.OpText, true, []byte("third"))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first", "second", "third"} {
		readText(t, c, want)
	}
}

// TestWriteNowPongsDoNotInterleave: frames written as the gateway writes
// them (WriteNow, then Write for what it left) from several goroutines,
// while the client pings and reads at its own pace, arrive whole, with
// every pong between frames.
func TestWriteNowPongsDoNotInterleave(t *testing.T) {
	const writers, frames, pings = 4, 100, 100
	payload := strings.Repeat("w", 20000)
	s := startServer(t, ws.PollerConfig{}, nil)
	c := s.dial(t)
	a := s.next(t)
	frame := ws.AppendFrame(nil, ws.OpText, true, []byte(payload))
	for range writers {
		go func() {
			for range frames {
				if writeNowOrWrite(a.conn, frame) != nil {
					return
				}
				runtime.Gosched()
			}
		}()
	}
	go func() {
		for i := range pings {
			if c.WriteFrame(ws.OpPing, true, []byte(fmt.Sprint(i))) != nil {
				return
			}
		}
	}()
	readTextsAndPongs(t, c, writers*frames, payload, fmt.Sprint(pings-1))
}
