package ws_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestOversizedFrameCloseSurvivesTrailingFrames sends a frame over the
// limit followed by 200 frames, each its own write as a browser sends
// them, that the server will never parse: it refuses the frame from its
// header and closes while they are in flight. Closing a socket with
// unread input, or receiving data on a closed one, makes the kernel reset
// the connection: the client's next send fails, and a browser then
// reports 1006 however the close frame fared. A try counts only when the
// client read 1009 and none of its writes was reset; the lingering close
// must make all 20 count.
func TestOversizedFrameCloseSurvivesTrailingFrames(t *testing.T) {
	cfg := ws.PollerConfig{MaxMessageSize: 1 << 10, CloseLinger: time.Second}
	t.Run("tcp", func(t *testing.T) {
		s := startServer(t, cfg, nil)
		oversizedThenTrailing(t, 20, func() (*wstest.Client, added) {
			c := s.dial(t)
			return c, s.next(t)
		})
	})
	// Over TLS, shutting down the write side must end the TLS stream's
	// writing only (on epoll, through the socketpair bridge), and the
	// server keep reading what the client sends.
	t.Run("tls", func(t *testing.T) {
		_, conns, dial := startTLSServer(t, cfg)
		oversizedThenTrailing(t, 5, func() (*wstest.Client, added) {
			c := dial()
			return c, nextAdded(t, conns)
		})
	})
}

// oversizedThenTrailing runs the tries of
// TestOversizedFrameCloseSurvivesTrailingFrames on connections from dial.
func oversizedThenTrailing(t *testing.T, tries int, dial func() (*wstest.Client, added)) {
	const trailing = 200
	key := wstest.RandomKey()
	oversized := wstest.AppendMaskedFrame(nil, ws.OpText, true, make([]byte, 4<<10), key)
	small := wstest.AppendMaskedFrame(nil, ws.OpText, true, bytes.Repeat([]byte("y"), 1<<10), key)
	got := map[string]int{}
	for range tries {
		c, a := dial()
		wrote := make(chan error, 1)
		go func() {
			err := c.WriteRaw(oversized)
			for i := 0; i < trailing && err == nil; i++ {
				// Spread over a few milliseconds, so that frames are
				// still being sent when the server closes.
				time.Sleep(50 * time.Microsecond)
				err = c.WriteRaw(small)
			}
			wrote <- err
		}()
		code, _, err := c.ReadClose()
		werr := <-wrote
		switch {
		case err != nil:
			got[fmt.Sprintf("read error %v", err)]++
		case werr != nil:
			got["reset while sending (1006)"]++
		default:
			got[fmt.Sprint(code)]++
		}
		a.handler.waitClose(t)
		c.Close()
	}
	if got["1009"] != tries {
		t.Fatalf("closes seen by %d clients: %v, want 1009 every time", tries, got)
	}
}

// TestFrameReadTimeout closes a connection whose frame does not complete
// in time, whether it stalls or trickles, with 1008; a client that keeps
// sending whole frames for longer than the timeout, or that stays idle
// between frames, is not closed.
func TestFrameReadTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	// The epoll sweeper looks 4 times per timeout; the rest is for a loaded
	// machine.
	const margin = 2 * time.Second
	frame := wstest.AppendMaskedFrame(nil, ws.OpText, true, bytes.Repeat([]byte("z"), 2000), wstest.RandomKey())
	cfg := ws.PollerConfig{FrameReadTimeout: timeout, CloseLinger: 100 * time.Millisecond}

	t.Run("stalled", func(t *testing.T) {
		s := startServer(t, cfg, nil)
		c := s.dial(t)
		a := s.next(t)
		start := time.Now()
		if err := c.WriteRaw(frame[:1000]); err != nil {
			t.Fatal(err)
		}
		readClose(t, c, ws.ClosePolicyViolation)
		if d := time.Since(start); d < timeout || d > timeout+margin {
			t.Fatalf("closed after %v, want %v", d, timeout)
		}
		var pe *ws.ProtocolError
		if err := a.handler.waitClose(t); !errors.As(err, &pe) || pe.Code != ws.ClosePolicyViolation {
			t.Fatalf("OnClose(%v)", err)
		}
		if st := s.poller.Stats(); st.FrameTimeouts != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("trickling", func(t *testing.T) {
		s := startServer(t, cfg, nil)
		c := s.dial(t)
		s.next(t)
		start := time.Now()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i := range frame {
				select {
				case <-stop:
					return
				case <-time.After(timeout / 10):
				}
				if c.WriteRaw(frame[i:i+1]) != nil {
					return
				}
			}
		}()
		readClose(t, c, ws.ClosePolicyViolation)
		if d := time.Since(start); d > timeout+margin {
			t.Fatalf("closed after %v", d)
		}
	})
	t.Run("busy and idle clients stay", func(t *testing.T) {
		s := startServer(t, cfg, nil)
		busy, idle := s.dial(t), s.dial(t)
		s.next(t)
		s.next(t)
		// Whole frames, written cut in the middle so that most reads end
		// inside a frame, for several timeouts.
		for end := time.Now().Add(4 * timeout); time.Now().Before(end); {
			two := append(bytes.Clone(frame), frame...)
			cut := len(frame) + len(frame)/2
			if err := busy.WriteRaw(two[:cut]); err != nil {
				t.Fatal(err)
			}
			// Real time on a real socket: the server's read deadline is what
			// is under test, so the half frame must sit there a while.
			time.Sleep(timeout / 6)
			if err := busy.WriteRaw(two[cut:]); err != nil {
				t.Fatal(err)
			}
			readText(t, busy, strings.Repeat("z", 2000))
			readText(t, busy, strings.Repeat("z", 2000))
		}
		if err := idle.WriteText("still here"); err != nil {
			t.Fatal(err)
		}
		readText(t, idle, "still here")
		if st := s.poller.Stats(); st.FrameTimeouts != 0 || st.Open != 2 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestCloseLinger: after its close frame the server keeps reading what
// the client sends, then closes the socket once the linger is over, or as
// soon as the client closes its side.
func TestCloseLinger(t *testing.T) {
	const linger = 300 * time.Millisecond
	s := startServer(t, ws.PollerConfig{CloseLinger: linger}, nil)

	c := s.dial(t)
	a := s.next(t)
	start := time.Now()
	if err := a.conn.Close(ws.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if code, _, err := c.ReadClose(); err != nil || code != ws.CloseNormal {
		t.Fatalf("close %d %v", code, err)
	}
	// The write side is shut down: EOF, while the server still reads.
	if _, err := c.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after close: %v, want EOF", err)
	}
	for time.Since(start) < linger/2 {
		if err := c.WriteText("in flight"); err != nil {
			t.Fatalf("write during the linger: %v", err)
		}
		// Spread the writes over half the linger: they must keep
		// arriving while the server lingers on a real socket.
		time.Sleep(linger / 10)
	}
	if n := s.poller.Stats().Lingering; n != 1 {
		t.Fatalf("%d lingering", n)
	}
	testinfra.WaitUntil(t, "no lingering connections", func() bool { return s.poller.Stats().Lingering == 0 })
	if d := time.Since(start); d < linger {
		t.Fatalf("linger ended after %v", d)
	}

	// A client that closes ends the linger at once.
	c2 := s.dial(t)
	a2 := s.next(t)
	a2.conn.Close(ws.CloseNormal, "")
	if _, _, err := c2.ReadClose(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	c2.Close()
	testinfra.WaitUntil(t, "no lingering connections", func() bool { return s.poller.Stats().Lingering == 0 })
	if d := time.Since(start); d >= linger {
		t.Fatalf("linger lasted %v after the client closed", d)
	}
}

// TestInterruptWrite is how a slow consumer is cut off: the client stops
// reading, the server's write blocks on the full socket, InterruptWrite
// cuts it short, and Close sends the rest of the frame in progress, then
// the close frame, as soon as the socket takes them. The client, reading
// again, finds well-formed frames and then the close code.
func TestInterruptWrite(t *testing.T) {
	for _, how := range []string{"Write", "WriteBuffers"} {
		t.Run(how, func(t *testing.T) { interruptWrite(t, how) })
	}
}

func interruptWrite(t *testing.T, how string) {
	s := startServer(t, ws.PollerConfig{ControlWriteTimeout: 5 * time.Second, CloseLinger: time.Second}, nil)
	c := s.dial(t)
	a := s.next(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<10) // 16 KiB
	frame := ws.AppendFrame(nil, ws.OpText, true, payload)
	written := make(chan error, 1)
	go func() {
		for {
			// Several frames per write, as a writer's batch.
			var err error
			if how == "Write" {
				_, err = a.conn.Write(bytes.Repeat(frame, 3))
			} else {
				_, err = a.conn.WriteBuffers([][]byte{frame, frame, frame})
			}
			if err != nil {
				written <- err
				return
			}
		}
	}()
	// Let the socket buffers fill up and the write block (a blocked write
	// shows nowhere a test could poll).
	time.Sleep(300 * time.Millisecond)
	a.conn.InterruptWrite()
	select {
	case err := <-written:
		if !errors.Is(err, ws.ErrInterrupted) {
			t.Fatalf("write: %v, want ErrInterrupted", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("write not interrupted")
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		a.conn.Close(4100, "slow consumer")
	}()
	// Start reading again only once Close is waiting for the socket,
	// which, like the blocked write above, nothing exposes.
	time.Sleep(100 * time.Millisecond)
	frames := 0
	for {
		f, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("after %d frames: %v", frames, err)
		}
		if f.Op == ws.OpClose {
			if code, _ := (ws.Message{Op: f.Op, Payload: f.Payload}).CloseStatus(); code != 4100 {
				t.Fatalf("close code %d", code)
			}
			break
		}
		if f.Op != ws.OpText || !f.Fin || !bytes.Equal(f.Payload, payload) {
			t.Fatalf("frame %d: %v of %d bytes", frames, f.Op, len(f.Payload))
		}
		frames++
	}
	<-closed
	t.Logf("%d whole frames before the close", frames)
}

// TestMaxLingering: past MaxLingering, a closed connection's socket is
// closed at once instead of lingering.
func TestMaxLingering(t *testing.T) {
	s := startServer(t, ws.PollerConfig{CloseLinger: time.Minute, MaxLingering: 1}, nil)
	c1, c2 := s.dial(t), s.dial(t)
	a1, a2 := s.next(t), s.next(t)
	a1.conn.Close(ws.CloseNormal, "")
	a2.conn.Close(ws.CloseNormal, "")
	if n := s.poller.Stats().Lingering; n != 1 {
		t.Fatalf("%d lingering, want 1", n)
	}
	for _, c := range []*wstest.Client{c1, c2} {
		if code, _, err := c.ReadClose(); err != nil || code != ws.CloseNormal {
			t.Fatalf("close %d, %v", code, err)
		}
	}
	// The lingering one ends when its client closes.
	c1.Close()
	c2.Close()
	testinfra.WaitUntil(t, "no lingering connections", func() bool { return s.poller.Stats().Lingering == 0 })
}

// TestCloseRacingProtocolError: the layer above closes a connection (from
// a goroutine of its own, as the gateway's writer does) while the worker
// is failing it for a protocol error in the next frame. Whoever wins, the
// client must get a close frame: the one Close asked for or the protocol
// error's, never none. The invalid frame is long, so that parsing it
// (unmasking, checking its UTF-8) leaves Close time to land meanwhile.
func TestCloseRacingProtocolError(t *testing.T) {
	const tries = 200
	s := startServer(t, ws.PollerConfig{}, func(r *recorder) {
		r.onMessage = func(c *ws.Conn, _ []byte) { go func() { _ = c.Close(4009, "refused") }() }
	})
	invalid := append(bytes.Repeat([]byte("x"), 60<<10), 0xff)
	got := map[string]int{}
	for range tries {
		c := s.dial(t)
		a := s.next(t)
		key := wstest.RandomKey()
		b := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte("bye"), key)
		b = wstest.AppendMaskedFrame(b, ws.OpText, true, invalid, key)
		if err := c.WriteRaw(b); err != nil {
			t.Fatal(err)
		}
		code, _, err := c.ReadClose()
		if err != nil {
			got["no close frame"]++
		} else {
			got[fmt.Sprint(code)]++
		}
		a.handler.waitClose(t)
		c.Close()
	}
	t.Logf("closes: %v", got)
	if got["4009"]+got["1007"] != tries {
		t.Fatalf("closes seen by %d clients: %v, want 4009 or 1007 every time", tries, got)
	}
}
