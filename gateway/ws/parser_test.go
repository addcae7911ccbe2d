package ws_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// frame returns a masked client frame.
func frame(op ws.Opcode, fin bool, payload string) []byte {
	return wstest.AppendMaskedFrame(nil, op, fin, []byte(payload), testKey)
}

// rawHeader returns a frame header with full control over its bits: b0 and
// b1 as given, then ext (the extended length bytes) and, if masked, the key.
func rawHeader(b0, b1 byte, ext []byte) []byte {
	h := append([]byte{b0, b1}, ext...)
	if b1&0x80 != 0 {
		h = append(h, testKey[:]...)
	}
	return h
}

func closePayload(code uint16, reason string) string {
	return string(wstest.ClosePayload(code, reason))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

type msg struct {
	op      ws.Opcode
	payload string
}

// parse feeds chunks one at a time, draining Next after each, and returns
// the messages (copied) and the first error.
func parse(p *ws.Parser, chunks ...[]byte) ([]msg, error) {
	var out []msg
	for _, c := range chunks {
		p.Feed(c)
		for {
			m, ok, err := p.Next()
			if err != nil {
				return out, err
			}
			if !ok {
				break
			}
			out = append(out, msg{m.Op, string(m.Payload)})
		}
	}
	return out, nil
}

func codeOf(err error) uint16 {
	var pe *ws.ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

func TestParser(t *testing.T) {
	big := strings.Repeat("a", 70000)
	mid := strings.Repeat("é", 100) // 200 bytes: a 16-bit length
	ext16 := func(n uint16) []byte { return binary.BigEndian.AppendUint16(nil, n) }
	ext64 := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

	tests := []struct {
		name     string
		max      int
		in       []byte
		want     []msg
		wantCode uint16
	}{
		{name: "text", in: frame(ws.OpText, true, "hello"), want: []msg{{ws.OpText, "hello"}}},
		{name: "empty text", in: frame(ws.OpText, true, ""), want: []msg{{ws.OpText, ""}}},
		{name: "two messages", in: cat(frame(ws.OpText, true, "a"), frame(ws.OpText, true, "b")),
			want: []msg{{ws.OpText, "a"}, {ws.OpText, "b"}}},
		{name: "16-bit length", in: frame(ws.OpText, true, mid), want: []msg{{ws.OpText, mid}}},
		{name: "64-bit length", max: 1 << 20, in: frame(ws.OpText, true, big), want: []msg{{ws.OpText, big}}},
		{name: "non-minimal 16-bit length accepted", in: cat(rawHeader(0x81, 0x80|126, ext16(2)), maskedBytes("hi")),
			want: []msg{{ws.OpText, "hi"}}},
		{name: "unmasked", in: []byte{0x81, 0x02, 'h', 'i'}, wantCode: ws.CloseProtocolError},
		{name: "rsv1", in: cat(rawHeader(0xC1, 0x80, nil)), wantCode: ws.CloseProtocolError},
		{name: "rsv2", in: cat(rawHeader(0xA1, 0x80, nil)), wantCode: ws.CloseProtocolError},
		{name: "rsv3", in: cat(rawHeader(0x91, 0x80, nil)), wantCode: ws.CloseProtocolError},
		{name: "reserved data opcode", in: frame(3, true, "x"), wantCode: ws.CloseProtocolError},
		{name: "reserved control opcode", in: frame(0xB, true, "x"), wantCode: ws.CloseProtocolError},
		{name: "binary", in: frame(ws.OpBinary, true, "x"), wantCode: ws.CloseUnsupportedData},
		{name: "fragmented binary", in: frame(ws.OpBinary, false, "x"), wantCode: ws.CloseUnsupportedData},
		{name: "invalid utf-8", in: frame(ws.OpText, true, "a\xffb"), wantCode: ws.CloseInvalidPayload},
		{name: "surrogate half", in: frame(ws.OpText, true, "\xed\xa0\x80"), wantCode: ws.CloseInvalidPayload},
		{name: "fragments", in: cat(frame(ws.OpText, false, "he"), frame(ws.OpContinuation, false, "ll"), frame(ws.OpContinuation, true, "o")),
			want: []msg{{ws.OpText, "hello"}}},
		{name: "empty fragments", in: cat(frame(ws.OpText, false, ""), frame(ws.OpContinuation, true, "")),
			want: []msg{{ws.OpText, ""}}},
		{name: "ping inside fragments", in: cat(frame(ws.OpText, false, "he"), frame(ws.OpPing, true, "p"), frame(ws.OpContinuation, true, "y")),
			want: []msg{{ws.OpPing, "p"}, {ws.OpText, "hey"}}},
		{name: "pong inside fragments", in: cat(frame(ws.OpText, false, "a"), frame(ws.OpPong, true, ""), frame(ws.OpContinuation, true, "b")),
			want: []msg{{ws.OpPong, ""}, {ws.OpText, "ab"}}},
		{name: "rune split across fragments", in: cat(frame(ws.OpText, false, "\xc3"), frame(ws.OpContinuation, true, "\xa9")),
			want: []msg{{ws.OpText, "é"}}},
		{name: "4-byte rune split in three", in: cat(frame(ws.OpText, false, "\xf0\x9f"), frame(ws.OpContinuation, false, "\x98"), frame(ws.OpContinuation, true, "\x80")),
			want: []msg{{ws.OpText, "😀"}}},
		{name: "invalid utf-8 across fragments", in: cat(frame(ws.OpText, false, "\xe2\x82"), frame(ws.OpContinuation, true, "A")),
			wantCode: ws.CloseInvalidPayload},
		{name: "incomplete rune at end", in: cat(frame(ws.OpText, false, "a"), frame(ws.OpContinuation, true, "\xe2\x82")),
			wantCode: ws.CloseInvalidPayload},
		{name: "continuation without message", in: frame(ws.OpContinuation, true, "x"), wantCode: ws.CloseProtocolError},
		{name: "text inside fragmented message", in: cat(frame(ws.OpText, false, "a"), frame(ws.OpText, true, "b")),
			wantCode: ws.CloseProtocolError},
		{name: "fragmented ping", in: frame(ws.OpPing, false, "x"), wantCode: ws.CloseProtocolError},
		{name: "ping of 126 bytes", in: frame(ws.OpPing, true, strings.Repeat("x", 126)), wantCode: ws.CloseProtocolError},
		{name: "ping of 125 bytes", in: frame(ws.OpPing, true, strings.Repeat("x", 125)),
			want: []msg{{ws.OpPing, strings.Repeat("x", 125)}}},
		{name: "oversize message", max: 10, in: frame(ws.OpText, true, "01234567890"), wantCode: ws.CloseMessageTooBig},
		{name: "message of exactly max", max: 10, in: frame(ws.OpText, true, "0123456789"), want: []msg{{ws.OpText, "0123456789"}}},
		{name: "oversize across fragments", max: 10, in: cat(frame(ws.OpText, false, "012345"), frame(ws.OpContinuation, true, "67890")),
			wantCode: ws.CloseMessageTooBig},
		{name: "declared 2^63-1 bytes", in: rawHeader(0x81, 0x80|127, ext64(1<<63-1)), wantCode: ws.CloseMessageTooBig},
		{name: "declared 2^63 bytes", in: rawHeader(0x81, 0x80|127, ext64(1<<63)), wantCode: ws.CloseProtocolError},
		{name: "close without status", in: frame(ws.OpClose, true, ""), want: []msg{{ws.OpClose, ""}}},
		{name: "close 1000 with reason", in: frame(ws.OpClose, true, closePayload(1000, "bye")),
			want: []msg{{ws.OpClose, closePayload(1000, "bye")}}},
		{name: "close 1-byte payload", in: frame(ws.OpClose, true, "x"), wantCode: ws.CloseProtocolError},
		{name: "close reason invalid utf-8", in: frame(ws.OpClose, true, closePayload(1000, "\xff")), wantCode: ws.CloseInvalidPayload},
		{name: "fragmented close", in: frame(ws.OpClose, false, ""), wantCode: ws.CloseProtocolError},
		{name: "frames after close ignored", in: cat(frame(ws.OpClose, true, ""), frame(ws.OpText, true, "x"), []byte{0xff}),
			want: []msg{{ws.OpClose, ""}}},
		{name: "close inside fragments", in: cat(frame(ws.OpText, false, "a"), frame(ws.OpClose, true, closePayload(1001, ""))),
			want: []msg{{ws.OpClose, closePayload(1001, "")}}},
	}
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999} {
		tests = append(tests, struct {
			name     string
			max      int
			in       []byte
			want     []msg
			wantCode uint16
		}{name: fmt.Sprintf("close code %d", code), in: frame(ws.OpClose, true, closePayload(code, "")),
			want: []msg{{ws.OpClose, closePayload(code, "")}}})
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name     string
			max      int
			in       []byte
			want     []msg
			wantCode uint16
		}{name: fmt.Sprintf("close code %d invalid", code), in: frame(ws.OpClose, true, string(binary.BigEndian.AppendUint16(nil, code))),
			wantCode: ws.CloseProtocolError})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(t *testing.T, chunks [][]byte) {
				t.Helper()
				p := ws.NewParser(ws.ParserConfig{MaxMessageSize: tt.max})
				got, err := parse(p, chunks...)
				if code := codeOf(err); code != tt.wantCode {
					t.Fatalf("error %v (code %d), want code %d", err, code, tt.wantCode)
				}
				if err == nil && !slices.Equal(got, tt.want) {
					t.Fatalf("messages %+v, want %+v", got, tt.want)
				}
				if err != nil {
					if _, _, again := p.Next(); again != err {
						t.Fatalf("Next after error returned %v, want the same error", again)
					}
				}
			}
			t.Run("whole", func(t *testing.T) { check(t, [][]byte{bytes.Clone(tt.in)}) })
			t.Run("byte by byte", func(t *testing.T) {
				var chunks [][]byte
				for _, b := range tt.in {
					chunks = append(chunks, []byte{b})
				}
				check(t, chunks)
			})
			if len(tt.in) > 300 {
				return // every split point of 70 KB is slow under -race
			}
			t.Run("split", func(t *testing.T) {
				for i := 1; i < len(tt.in); i++ {
					in := bytes.Clone(tt.in)
					check(t, [][]byte{in[:i], in[i:]})
				}
			})
		})
	}
}

func maskedBytes(s string) []byte {
	b := []byte(s)
	for i := range b {
		b[i] ^= testKey[i&3]
	}
	return b
}

// TestParserSplitEverywhere feeds a stream with fragments and interleaved
// control frames cut into three pieces at every pair of boundaries.
func TestParserSplitEverywhere(t *testing.T) {
	in := cat(
		frame(ws.OpText, false, "héllo, "),
		frame(ws.OpPing, true, "ping"),
		frame(ws.OpContinuation, false, "wör"),
		frame(ws.OpPong, true, ""),
		frame(ws.OpContinuation, true, "ld"),
		frame(ws.OpText, true, strings.Repeat("x", 130)),
		frame(ws.OpClose, true, closePayload(1000, "done")),
	)
	want := []msg{
		{ws.OpPing, "ping"}, {ws.OpPong, ""}, {ws.OpText, "héllo, wörld"},
		{ws.OpText, strings.Repeat("x", 130)}, {ws.OpClose, closePayload(1000, "done")},
	}
	for i := 0; i <= len(in); i++ {
		for j := i; j <= len(in); j += 7 {
			b := bytes.Clone(in)
			got, err := parse(ws.NewParser(ws.ParserConfig{}), b[:i], b[i:j], b[j:])
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("split at %d,%d: %+v, %v", i, j, got, err)
			}
		}
	}
}

// TestParserFailsEarly checks that errors are reported from the bytes that
// reveal them, before the rest of the frame or message is sent.
func TestParserFailsEarly(t *testing.T) {
	tests := []struct {
		name string
		max  int
		in   []byte
		code uint16
	}{
		{"oversize from the length field", 1000, []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0}, ws.CloseMessageTooBig},
		{"binary from the first two bytes", 0, []byte{0x82, 0x85}, ws.CloseUnsupportedData},
		{"unmasked from the first two bytes", 0, []byte{0x81, 0x05}, ws.CloseProtocolError},
		{"invalid utf-8 in the first fragment", 0, frame(ws.OpText, false, "ok\xff"), ws.CloseInvalidPayload},
		{"oversize in the second fragment's header", 4, cat(frame(ws.OpText, false, "abc"), []byte{0x80, 0x82}), ws.CloseMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(ws.NewParser(ws.ParserConfig{MaxMessageSize: tt.max}), tt.in)
			if code := codeOf(err); code != tt.code {
				t.Fatalf("error %v, want code %d", err, tt.code)
			}
		})
	}
}

// TestParserZeroCopy checks that a frame fed whole is returned in place.
func TestParserZeroCopy(t *testing.T) {
	in := cat(frame(ws.OpText, true, "first"), frame(ws.OpText, true, "second"))
	p := ws.NewParser(ws.ParserConfig{})
	p.Feed(in)
	for _, want := range []string{"first", "second"} {
		m, ok, err := p.Next()
		if err != nil || !ok || string(m.Payload) != want {
			t.Fatalf("Next = %q, %v, %v", m.Payload, ok, err)
		}
		if !inside(m.Payload, in) {
			t.Fatalf("payload %q was copied", want)
		}
	}
	if _, ok, _ := p.Next(); ok {
		t.Fatal("extra message")
	}
}

func inside(b, buf []byte) bool {
	if len(b) == 0 {
		return true
	}
	for i := range buf {
		if &buf[i] == &b[0] {
			return true
		}
	}
	return false
}

func TestCloseStatus(t *testing.T) {
	code, reason := ws.Message{Op: ws.OpClose}.CloseStatus()
	if code != ws.CloseNoStatus || reason != "" {
		t.Fatalf("empty close: %d %q", code, reason)
	}
	code, reason = ws.Message{Op: ws.OpClose, Payload: []byte(closePayload(4001, "no app"))}.CloseStatus()
	if code != 4001 || reason != "no app" {
		t.Fatalf("close: %d %q", code, reason)
	}
}
