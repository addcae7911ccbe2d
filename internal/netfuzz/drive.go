package netfuzz

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// Limits are the server's timeouts, which Check holds it to.
type Limits struct {
	// HeaderTimeout is the server's bound on reading a request's headers.
	HeaderTimeout time.Duration
	// FrameTimeout is the gateway's --frame-read-timeout.
	FrameTimeout time.Duration
	// Linger is the gateway's --close-linger.
	Linger time.Duration
	// Margin is the slack allowed on top for a loaded machine.
	Margin time.Duration
}

// Outcome is what the server did with an attack.
type Outcome struct {
	// Status is the HTTP status the server answered (0: none).
	Status int
	// Close is the code of the gateway's close frame (0: none;
	// ws.CloseNoStatus: one without a status).
	Close uint16
	// Ended is set when the server ended the connection.
	Ended bool
	// Took is how long after the connection opened the server answered
	// or ended it (HTTP), or how long after the attack's last byte it
	// ended the connection (WebSocket).
	Took time.Duration
	// Err is a failure on the attacker's side: the dial, or a valid
	// handshake the server did not accept.
	Err error
}

// Drive runs the attack on a new connection to addr and reports what the
// server did. It returns within the limits (plus the time the attack
// takes to send), whatever the server does.
func Drive(ctx context.Context, addr string, a Attack, l Limits) Outcome {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Outcome{Err: fmt.Errorf("dial: %w", err)}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	br := bufio.NewReader(conn)
	if a.Handshake == nil {
		return driveHTTP(conn, br, a, l)
	}
	return driveWS(conn, br, a, l)
}

// writeChunks writes the attack's chunks, Pause apart, then extra, and
// reports when it finished (or the error that stopped it).
func writeChunks(conn net.Conn, a Attack, extra []byte) <-chan time.Time {
	done := make(chan time.Time, 1)
	go func() {
		defer func() { done <- time.Now() }()
		for i, c := range a.Chunks {
			if i > 0 && a.Pause > 0 {
				time.Sleep(a.Pause)
			}
			if _, err := conn.Write(c); err != nil {
				return
			}
		}
		if extra != nil {
			_, _ = conn.Write(extra)
		}
	}()
	return done
}

// driveHTTP sends a request-level attack and reads the first line of the
// answer, if any.
func driveHTTP(conn net.Conn, br *bufio.Reader, a Attack, l Limits) Outcome {
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(sendTime(a) + l.HeaderTimeout + l.Margin))
	wrote := writeChunks(conn, a, nil)
	line, err := br.ReadString('\n')
	var o Outcome
	switch {
	case strings.HasPrefix(line, "HTTP/1."):
		f := strings.Fields(line)
		if len(f) >= 2 {
			o.Status, _ = strconv.Atoi(f[1])
		}
	case err != nil && !isTimeout(err):
		o.Ended = true
	}
	o.Took = time.Since(start)
	_ = conn.SetDeadline(time.Now()) // stop the writer
	<-wrote
	return o
}

// sendTime is how long writing the attack takes.
func sendTime(a Attack) time.Duration {
	return time.Duration(max(len(a.Chunks)-1, 0)) * a.Pause
}

// driveWS performs the handshake, sends the frames and reads the
// gateway's frames until it ends the connection.
func driveWS(conn net.Conn, br *bufio.Reader, a Attack, l Limits) Outcome {
	_ = conn.SetDeadline(time.Now().Add(l.HeaderTimeout + l.Margin))
	if _, err := conn.Write(a.Handshake); err != nil {
		return Outcome{Err: fmt.Errorf("write handshake: %w", err)}
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return Outcome{Err: fmt.Errorf("read handshake: %w", err)}
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		return Outcome{Status: res.StatusCode, Err: fmt.Errorf("handshake answered %d", res.StatusCode)}
	}
	if op, _, err := readFrame(br); err != nil || op != ws.OpText {
		return Outcome{Status: res.StatusCode, Err: fmt.Errorf("no connection event: %v %v", op, err)}
	}
	var bye []byte
	if a.Want.Open {
		// Valid input leaves the connection open: close it, and the
		// gateway must echo.
		bye = wstest.AppendMaskedFrame(nil, ws.OpClose, true, wstest.ClosePayload(ws.CloseNormal, ""), [4]byte{9, 8, 7, 6})
	}
	_ = conn.SetDeadline(time.Now().Add(sendTime(a) + l.FrameTimeout + l.Linger + 2*l.Margin))
	wrote := writeChunks(conn, a, bye)
	o := Outcome{Status: res.StatusCode}
	for {
		op, payload, err := readFrame(br)
		if err != nil {
			o.Ended = !isTimeout(err)
			break
		}
		if op == ws.OpClose && o.Close == 0 {
			o.Close, _ = ws.Message{Op: op, Payload: payload}.CloseStatus()
		}
	}
	_ = conn.SetDeadline(time.Now())
	o.Took = max(time.Since(<-wrote), 0)
	return o
}

// maxServerFrame bounds what readFrame accepts from the gateway.
const maxServerFrame = 1 << 20

// readFrame reads one server frame.
func readFrame(br *bufio.Reader) (ws.Opcode, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > maxServerFrame {
		return 0, nil, fmt.Errorf("netfuzz: server frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	return ws.Opcode(h[0] & 0x0f), p, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Check returns why the outcome breaks the rules for its attack, or nil:
// every connection is answered (an HTTP status, or the close code the
// gateway owes) or ended, within the server's timeouts.
func Check(a Attack, o Outcome, l Limits) error {
	if o.Err != nil {
		return o.Err
	}
	switch a.Kind {
	case RandomBytes, MutatedRequest:
		if o.Status == 0 && !o.Ended {
			return fmt.Errorf("no answer and not closed within %v", o.Took)
		}
		if a.Kind == RandomBytes && o.Status != 0 && o.Status < 400 {
			return fmt.Errorf("random bytes answered %d", o.Status)
		}
	case HugeHeaders:
		if o.Status != http.StatusRequestHeaderFieldsTooLarge && o.Status != http.StatusBadRequest {
			return fmt.Errorf("headers over the cap answered %d (ended %v)", o.Status, o.Ended)
		}
	case Slowloris, HalfOpen:
		// Ended, or refused: never served.
		if o.Status != 0 && o.Status < 400 {
			return fmt.Errorf("unfinished request answered %d", o.Status)
		}
		if o.Status == 0 && !o.Ended || o.Took > l.HeaderTimeout+l.Margin {
			return fmt.Errorf("not closed within the header timeout (%v): took %v", l.HeaderTimeout, o.Took)
		}
	case BadFrames, PusherJSON:
		return checkWS(a, o, l)
	}
	return nil
}

// checkWS checks a WebSocket attack's outcome against its Want.
func checkWS(a Attack, o Outcome, l Limits) error {
	w := a.Want
	pusherClose := a.Kind == PusherJSON && o.Close >= 4000 && o.Close < 5000
	switch {
	case w.Open && o.Close != ws.CloseNormal && !pusherClose:
		return fmt.Errorf("valid input, then a close: got close %d, want the echo (1000)", o.Close)
	case !w.Open && o.Close != w.Close && !pusherClose:
		return fmt.Errorf("got close %d, want %d (timeout %v)", o.Close, w.Close, w.Timeout)
	case !o.Ended:
		return fmt.Errorf("close %d, but the connection was not ended", o.Close)
	}
	bound := l.Linger + l.Margin
	if w.Timeout {
		bound += l.FrameTimeout
	}
	if o.Took > bound {
		return fmt.Errorf("ended %v after the last byte, want within %v", o.Took, bound)
	}
	return nil
}
