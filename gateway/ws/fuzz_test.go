package ws_test

import (
	"bytes"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// FuzzParser checks, for any input, that the Parser never panics, never
// returns a message over its limit or text that is not UTF-8, gives the
// same result however the input is cut, and returns what a client encoded
// (masked, fragmented, with a ping in the middle). The seed corpus in
// testdata/fuzz/FuzzParser holds valid and invalid frames.
func FuzzParser(f *testing.F) {
	f.Add(frame(ws.OpText, true, "hello"), []byte("héllo"), uint16(3), uint16(100))
	f.Fuzz(func(t *testing.T, stream, text []byte, split, limit uint16) {
		maxSize := int(limit) + 1

		// Arbitrary bytes: whole, then cut in two.
		whole, wholeErr := parse(ws.NewParser(ws.ParserConfig{MaxMessageSize: maxSize}), bytes.Clone(stream))
		checkMessages(t, whole, maxSize)
		if len(stream) > 1 {
			b := bytes.Clone(stream)
			i := int(split)%(len(b)-1) + 1
			cut, cutErr := parse(ws.NewParser(ws.ParserConfig{MaxMessageSize: maxSize}), b[:i], b[i:])
			if !slices.Equal(whole, cut) || codeOf(wholeErr) != codeOf(cutErr) {
				t.Fatalf("cut at %d: %+v %v, whole: %+v %v", i, cut, cutErr, whole, wholeErr)
			}
		}

		// Round trip of a fragmented text message.
		key := [4]byte{byte(split), byte(split >> 8), byte(limit), 0x5a}
		i := 0
		if len(text) > 0 {
			i = int(split) % (len(text) + 1)
		}
		enc := wstest.AppendMaskedFrame(nil, ws.OpText, false, text[:i], key)
		enc = wstest.AppendMaskedFrame(enc, ws.OpPing, true, []byte("p"), key)
		enc = wstest.AppendMaskedFrame(enc, ws.OpContinuation, true, text[i:], key)
		got, err := parse(ws.NewParser(ws.ParserConfig{MaxMessageSize: maxSize}), enc)
		checkMessages(t, got, maxSize)
		valid, fits := utf8.Valid(text), len(text) <= maxSize
		switch code := codeOf(err); {
		case valid && fits:
			want := []msg{{ws.OpPing, "p"}, {ws.OpText, string(text)}}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("round trip: %+v %v", got, err)
			}
		case !valid && !fits:
			if code != ws.CloseInvalidPayload && code != ws.CloseMessageTooBig {
				t.Fatalf("invalid and oversize: error %v", err)
			}
		case !valid && code != ws.CloseInvalidPayload:
			t.Fatalf("invalid UTF-8: error %v", err)
		case !fits && code != ws.CloseMessageTooBig:
			t.Fatalf("oversize: error %v", err)
		}
	})
}

// checkMessages checks what any sequence of messages must satisfy.
func checkMessages(t *testing.T, msgs []msg, maxSize int) {
	t.Helper()
	for _, m := range msgs {
		switch m.op {
		case ws.OpText:
			if len(m.payload) > maxSize {
				t.Fatalf("text message of %d bytes, limit %d", len(m.payload), maxSize)
			}
			if !utf8.ValidString(m.payload) {
				t.Fatalf("text message not UTF-8: %q", m.payload)
			}
		case ws.OpPing, ws.OpPong, ws.OpClose:
			if len(m.payload) > ws.MaxControlPayload {
				t.Fatalf("%v of %d bytes", m.op, len(m.payload))
			}
		default:
			t.Fatalf("unexpected opcode %v", m.op)
		}
	}
}
