package e2e_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// RFC 6455 conformance (issue 22): the Autobahn TestSuite's server cases,
// ported as a table (autobahn_cases_test.go) and run against a real
// gateway. Herald is not an echo server: where Autobahn expects the
// message back, the case expects the Pusher layer's answer to it (see
// abAnswer), and every case that leaves the connection open ends with a
// ping whose pong must be the next frame, so that nothing unexpected
// slipped in between.
const (
	// envAutobahnTable names a file the test writes the results table to
	// (markdown, for docs/security.md).
	envAutobahnTable = "HERALD_AUTOBAHN_TABLE"
	// securityDoc publishes the table.
	securityDoc = "../../docs/security.md"
	// abMaxMessage is the max_message_bytes of the app the cases run on:
	// with the envelope allowance over it, the connection's cap is the
	// gateway's default ceiling, gateway.DefaultMaxClientMessageBytes.
	abMaxMessage = 64 << 10
	// abCap is that cap: the largest message a case can send.
	abCap = 64 << 10
	// abTimeout bounds each read of a case.
	abTimeout = 5 * time.Second
	// abLinger is the gateway's --close-linger: how long after its close
	// frame the gateway keeps the socket, which a case waits for.
	abLinger = 100 * time.Millisecond
	// abChopPause spaces the pieces of a chopped write, so that the
	// gateway reads the frames cut.
	abChopPause = 100 * time.Microsecond
	// abSync is the payload of the ping that ends a case left open.
	abSync = "autobahn-sync"
)

// abWant is one thing a case expects from the gateway, in order.
type abWant struct {
	op      ws.Opcode // OpPong, OpText (a Pusher event) or OpClose
	payload string    // the pong's payload
	event   string    // the Pusher event's name
	code    uint16    // the close code (ws.CloseNoStatus: none)
	// optional marks an answer the gateway may drop: one to a message
	// that arrived with the frame that ends the connection (a close, a
	// protocol error) in the same read. The gateway answers through the
	// connection's send queue, the close goes at once, and no data may
	// follow a close frame (RFC 6455 section 5.5.1).
	optional bool
}

func (w abWant) String() string {
	if w.optional {
		w.optional = false
		return "(" + w.String() + " or dropped)"
	}
	switch w.op {
	case ws.OpPong:
		if len(w.payload) > 16 {
			return fmt.Sprintf("pong (%d bytes)", len(w.payload))
		}
		return fmt.Sprintf("pong %q", w.payload)
	case ws.OpText:
		return w.event
	}
	if w.code == ws.CloseNoStatus {
		return "close (no status)"
	}
	return fmt.Sprintf("close %d", w.code)
}

func pong(payload string) abWant   { return abWant{op: ws.OpPong, payload: payload} }
func answer(event string) abWant   { return abWant{op: ws.OpText, event: event} }
func closeWith(code uint16) abWant { return abWant{op: ws.OpClose, code: code} }

// maybe makes w optional.
func maybe(w abWant) abWant { w.optional = true; return w }

// abStep is what a case writes, then what it reads before going on.
type abStep struct {
	write []byte
	// chop, when positive, writes in pieces of that many bytes with a
	// pause between them, so that the gateway reads the frames cut.
	chop int
	want []abWant
}

// abCase is one Autobahn case.
type abCase struct {
	id, desc string
	steps    []abStep
	// again, when set, runs on a second connection after steps, with
	// the same expected outcome (the UTF-8 sequences, whole then in
	// 1-byte fragments).
	again []abStep
	// offer is a Sec-WebSocket-Extensions value the handshake offers; the
	// gateway must not accept it.
	offer string
}

// expected renders what the case expects, for the results table.
func (c abCase) expected() string {
	var parts []string
	if c.offer != "" {
		parts = append(parts, "101 without extensions")
	}
	var last abWant
	for _, s := range c.steps {
		for _, w := range s.want {
			parts = append(parts, w.String())
			last = w
		}
	}
	if last.op != ws.OpClose {
		parts = append(parts, "open")
	} else {
		parts[len(parts)-1] += ", closed"
	}
	return compactRuns(parts)
}

// compactRuns writes runs of equal parts once with a count.
func compactRuns(parts []string) string {
	var out []string
	for i := 0; i < len(parts); {
		j := i
		for j < len(parts) && parts[j] == parts[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", parts[i], j-i))
		} else {
			out = append(out, parts[i])
		}
		i = j
	}
	return strings.Join(out, "; ")
}

// abResult is a case's row of the results table.
type abResult struct {
	c   abCase
	err error
}

func TestAutobahn(t *testing.T) {
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Gateway.CloseLinger = abLinger
	})
	k, _ := newApp(t, h, "autobahn", map[string]any{"max_message_bytes": abMaxMessage})
	cases := autobahnCases()
	results := make([]abResult, len(cases))
	seen := map[string]bool{}
	var mu sync.Mutex
	t.Run("cases", func(t *testing.T) {
		for i, c := range cases {
			if seen[c.id] {
				t.Fatalf("case %s twice", c.id)
			}
			seen[c.id] = true
			t.Run(c.id, func(t *testing.T) {
				t.Parallel()
				err := runAutobahnCase(h.URL(), k, c)
				mu.Lock()
				results[i] = abResult{c: c, err: err}
				mu.Unlock()
				if err != nil {
					t.Errorf("%s (%s): %v; want %s", c.id, c.desc, err, c.expected())
				}
			})
		}
	})
	table := autobahnTable(results)
	if path := os.Getenv(envAutobahnTable); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The published table is this run's: regenerate it with
	// HERALD_AUTOBAHN_TABLE=<file> when the cases change.
	doc, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), table) {
		t.Errorf("%s does not hold this run's results table: run with %s=<file> and paste it", securityDoc, envAutobahnTable)
	}
	failed := 0
	for _, r := range results {
		if r.err != nil {
			failed++
		}
	}
	t.Logf("%d Autobahn cases, %d failed", len(results), failed)
}

// autobahnTable renders the results as a markdown table.
func autobahnTable(results []abResult) string {
	var b strings.Builder
	b.WriteString("| Case | Description | Expected | Result |\n|---|---|---|---|\n")
	for _, r := range results {
		res := "pass"
		if r.err != nil {
			res = "FAIL: " + r.err.Error()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.c.id, mdEscape(r.c.desc), mdEscape(r.c.expected()), mdEscape(res))
	}
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// runAutobahnCase runs a case on a connection of its own, and again on
// another when it says so.
func runAutobahnCase(baseURL, key string, c abCase) error {
	if err := runAutobahnSteps(baseURL, key, c.offer, c.steps); err != nil {
		return err
	}
	if c.again != nil {
		if err := runAutobahnSteps(baseURL, key, c.offer, c.again); err != nil {
			return fmt.Errorf("second form: %w", err)
		}
	}
	return nil
}

// runAutobahnSteps connects, runs steps and checks the end: the sync
// ping's pong on an open connection, the socket's end after a close.
func runAutobahnSteps(baseURL, key, offer string, steps []abStep) error {
	cl, err := abDial(baseURL, key, offer)
	if err != nil {
		return err
	}
	defer cl.Close()
	closed := false
	for _, s := range steps {
		if closed {
			// What a case sends after the gateway's close goes nowhere.
			break
		}
		// The write runs beside the reads: the gateway may close before
		// it has read everything, and the reads must see that.
		wrote := make(chan error, 1)
		go func() { wrote <- abWrite(cl, s.write, s.chop) }()
		if err := abExpectAll(cl, s.want); err != nil {
			return err
		}
		closed = len(s.want) > 0 && s.want[len(s.want)-1].op == ws.OpClose
		if closed {
			<-wrote // an error is the gateway having gone, as expected
			continue
		}
		if err := <-wrote; err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if closed {
		return abExpectEOF(cl)
	}
	if err := cl.WriteFrame(ws.OpPing, true, []byte(abSync)); err != nil {
		return fmt.Errorf("write sync ping: %w", err)
	}
	return abExpect(cl, pong(abSync))
}

// abDial connects to the app's WebSocket endpoint and reads the Pusher
// handshake event. With offer, it checks that the 101 accepted no
// extension.
func abDial(baseURL, key, offer string) (*wstest.Client, error) {
	u, err := url.Parse(strings.Replace(baseURL, "http://", "ws://", 1) + "/app/" + key + "?protocol=7&client=autobahn&version=1")
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, abTimeout)
	if err != nil {
		return nil, err
	}
	if offer != "" {
		if err := abCheckNoExtension(conn, u, offer); err != nil {
			conn.Close()
			return nil, err
		}
		// A fresh connection for the case itself, so the client keeps a
		// clean reader.
		conn.Close()
		if conn, err = net.DialTimeout("tcp", u.Host, abTimeout); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), abTimeout)
	defer cancel()
	cl, err := wstest.Handshake(ctx, conn, u, http.Header{"Sec-WebSocket-Extensions": nilIfEmpty(offer)})
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := abExpect(cl, answer("pusher:connection_established")); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

func nilIfEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// abCheckNoExtension sends a handshake offering an extension and checks
// that the 101 names none (RFC 6455 section 9.1: the server may decline).
func abCheckNoExtension(conn net.Conn, u *url.URL, offer string) error {
	_ = conn.SetDeadline(time.Now().Add(abTimeout))
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: %s\r\n\r\n",
		u.RequestURI(), u.Host, offer)
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("handshake offering %q: status %d", offer, res.StatusCode)
	}
	if e := res.Header.Get("Sec-WebSocket-Extensions"); e != "" {
		return fmt.Errorf("the gateway accepted extension %q", e)
	}
	return nil
}

// abWrite writes b, in pieces of chop bytes when chop is positive.
func abWrite(cl *wstest.Client, b []byte, chop int) error {
	if chop <= 0 {
		return cl.WriteRaw(b)
	}
	for len(b) > 0 {
		n := min(chop, len(b))
		if err := cl.WriteRaw(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		time.Sleep(abChopPause)
	}
	return nil
}

// abExpect reads the next frame and checks it against w.
func abExpect(cl *wstest.Client, w abWant) error { return abExpectAll(cl, []abWant{w}) }

// abExpectAll reads frames and checks them against wants in order; a
// frame that does not match an optional want is checked against the next.
func abExpectAll(cl *wstest.Client, wants []abWant) error {
	var f *wstest.Frame
	for _, w := range wants {
		if f == nil {
			_ = cl.SetDeadline(time.Now().Add(abTimeout))
			got, err := cl.ReadFrame()
			if err != nil {
				return fmt.Errorf("want %v, read: %w", w, err)
			}
			f = &got
		}
		if err := abMatch(*f, w); err != nil {
			if w.optional {
				continue
			}
			return err
		}
		f = nil
	}
	if f != nil {
		return fmt.Errorf("unexpected %s", describeFrame(*f))
	}
	return nil
}

// abMatch checks a received frame against w.
func abMatch(f wstest.Frame, w abWant) error {
	got := describeFrame(f)
	if f.Op != w.op || !f.Fin {
		return fmt.Errorf("want %v, got %s", w, got)
	}
	switch w.op {
	case ws.OpPong:
		if string(f.Payload) != w.payload {
			return fmt.Errorf("want %v, got %s", w, got)
		}
	case ws.OpText:
		var e struct{ Event string }
		if err := json.Unmarshal(f.Payload, &e); err != nil || e.Event != w.event {
			return fmt.Errorf("want %v, got %s", w, got)
		}
	case ws.OpClose:
		if code, _ := (ws.Message{Op: f.Op, Payload: f.Payload}).CloseStatus(); code != w.code {
			return fmt.Errorf("want %v, got %s", w, got)
		}
	}
	return nil
}

// describeFrame names a received frame in failures.
func describeFrame(f wstest.Frame) string {
	switch f.Op {
	case ws.OpClose:
		code, reason := ws.Message{Op: f.Op, Payload: f.Payload}.CloseStatus()
		return fmt.Sprintf("close %d %q", code, reason)
	case ws.OpText:
		if len(f.Payload) > 120 {
			return fmt.Sprintf("text %.120q…", f.Payload)
		}
		return fmt.Sprintf("text %q", f.Payload)
	}
	return fmt.Sprintf("%v (fin %v, %d bytes)", f.Op, f.Fin, len(f.Payload))
}

// abExpectEOF checks that the gateway ends the connection after its
// close frame, within its linger, sending nothing more.
func abExpectEOF(cl *wstest.Client) error {
	_ = cl.SetDeadline(time.Now().Add(abTimeout))
	f, err := cl.ReadFrame()
	switch {
	case err == nil:
		return fmt.Errorf("after the close: %s", describeFrame(f))
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), isReset(err):
		return nil
	}
	return fmt.Errorf("after the close, want the end of the connection: %w", err)
}

// isReset reports a connection reset, which is how the gateway's close
// may end when the case still had bytes in flight.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// Frame builders for the cases: client frames, masked.

// frameOf is a masked client frame.
func frameOf(op ws.Opcode, fin bool, payload []byte) []byte {
	return wstest.AppendMaskedFrame(nil, op, fin, payload, wstest.RandomKey())
}

// frameRSV is frameOf with reserved bits (rsv: 1 to 7, RSV1 the highest).
func frameRSV(rsv byte, op ws.Opcode, fin bool, payload []byte) []byte {
	b := frameOf(op, fin, payload)
	b[0] |= rsv << 4
	return b
}

// textOf is a whole text message.
func textOf(s string) []byte { return frameOf(ws.OpText, true, []byte(s)) }

// closeFrame is a close frame with a status code and reason.
func closeFrame(code uint16, reason string) []byte {
	return frameOf(ws.OpClose, true, wstest.ClosePayload(code, reason))
}

// rawClose is a close frame with the given payload.
func rawClose(payload []byte) []byte { return frameOf(ws.OpClose, true, payload) }

// joinFrames concatenates frames into one write.
func joinFrames(frames ...[]byte) []byte { return slices.Concat(frames...) }

// fragments splits payload into frames of size bytes (the last one
// shorter), the first with op and the rest continuations.
func fragments(op ws.Opcode, payload []byte, size int) []byte {
	var out []byte
	first := true
	for first || len(payload) > 0 {
		n := min(size, len(payload))
		o := ws.OpContinuation
		if first {
			o = op
		}
		out = append(out, frameOf(o, n == len(payload), payload[:n])...)
		payload, first = payload[n:], false
	}
	return out
}

// pingJSONPrefix and pingJSONSuffix frame a pusher:ping padded to a given
// length: the message a case sends when it is about framing, whose answer
// (pusher:pong) shows the gateway read it whole.
const (
	pingJSONPrefix = `{"event":"pusher:ping","data":{"p":"`
	pingJSONSuffix = `"}}`
)

// abMessage returns a text message of exactly n bytes and the Pusher
// event that answers it: a pusher:ping when n allows one, else text that
// is not JSON, which gets a pusher:error.
func abMessage(n int) ([]byte, abWant) {
	if min := len(pingJSONPrefix) + len(pingJSONSuffix); n >= min {
		return []byte(pingJSONPrefix + strings.Repeat("x", n-min) + pingJSONSuffix), answer("pusher:pong")
	}
	return []byte(strings.Repeat("*", n)), answer("pusher:error")
}

// maskedLenHeader is a masked frame header announcing n payload bytes in
// the 64-bit length, for cases that announce more than they send.
func maskedLenHeader(op ws.Opcode, n uint64) []byte {
	b := []byte{0x80 | byte(op), 0x80 | 127}
	b = binary.BigEndian.AppendUint64(b, n)
	return append(b, 1, 2, 3, 4)
}
