package ws

import (
	"bytes"
	"testing"
)

// maskedFrame is a client frame with a zero masking key, so that its
// payload reads as sent.
func maskedFrame(op Opcode, fin bool, payload []byte) []byte {
	b := AppendHeader(nil, op, fin, len(payload))
	b[1] |= maskBit
	b = append(b, 0, 0, 0, 0)
	return append(b, payload...)
}

// TestParserMemoryBoundedByLimit feeds a fragmented message of exactly the
// limit a few bytes at a time: what the Parser holds never exceeds twice
// the limit (the message so far, grown by doubling up to the limit, and
// the cut frame, at most what the limit has left), whatever append's
// growth policy would do, and inProgress says a frame or message is
// incomplete until it is not. A message in one frame, the usual case, is
// held once.
func TestParserMemoryBoundedByLimit(t *testing.T) {
	const limit = 10000
	// Fragment sizes that make append round the message's array up past
	// the limit (9800 bytes would get a 10240-byte array).
	sizes := []int{100, 9700, 200}
	var in []byte
	for i, n := range sizes {
		op := OpContinuation
		if i == 0 {
			op = OpText
		}
		in = append(in, maskedFrame(op, i == len(sizes)-1, bytes.Repeat([]byte("m"), n))...)
	}
	p := NewParser(ParserConfig{MaxMessageSize: limit})
	units := p.units
	for i := 0; i < len(in); i += 7 {
		p.Feed(bytes.Clone(in[i:min(i+7, len(in))]))
		for {
			m, ok, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if len(m.Payload) != limit || i+7 < len(in) {
				t.Fatalf("message of %d bytes at offset %d", len(m.Payload), i)
			}
		}
		if cap(p.msg) > limit || cap(p.pending) > limit-len(p.msg)+MaxHeaderSize {
			t.Fatalf("at offset %d the parser holds %d+%d bytes, limit %d", i, cap(p.msg), cap(p.pending), limit)
		}
		if done := i+7 >= len(in); p.inProgress() == done {
			t.Fatalf("at offset %d of %d: inProgress %v", i, len(in), p.inProgress())
		}
	}
	if p.units != units+1 {
		t.Fatalf("units %d, want %d: one message completed", p.units, units+1)
	}
}
