package ws_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

func BenchmarkAppendFrame(b *testing.B) {
	for _, n := range []int{100, 10 << 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			payload := []byte(strings.Repeat("x", n))
			buf := make([]byte, 0, ws.FrameSize(n))
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				buf = ws.AppendFrame(buf[:0], ws.OpText, true, payload)
			}
		})
	}
}

// BenchmarkParser parses a whole text frame per Feed: the path of every
// message. The masking key is zero so that unmasking in place leaves the
// input unchanged and it can be fed again (the XOR work is still done).
func BenchmarkParser(b *testing.B) {
	zero := [4]byte{}
	for _, n := range []int{100, 10 << 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			in := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte(strings.Repeat("é", n/20)+strings.Repeat("x", n-n/10)), zero)
			p := ws.NewParser(ws.ParserConfig{})
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				p.Feed(in)
				if _, ok, err := p.Next(); !ok || err != nil {
					b.Fatal(ok, err)
				}
				if _, ok, _ := p.Next(); ok {
					b.Fatal("extra message")
				}
			}
		})
	}
	b.Run("batch of 10", func(b *testing.B) {
		var in []byte
		for range 10 {
			in = wstest.AppendMaskedFrame(in, ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`), zero)
		}
		p := ws.NewParser(ws.ParserConfig{})
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			p.Feed(in)
			for range 10 {
				if _, ok, err := p.Next(); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
			if _, ok, _ := p.Next(); ok {
				b.Fatal("extra message")
			}
		}
	})
	// A frame cut in two reads: the cut part is copied (one allocation).
	b.Run("cut frame", func(b *testing.B) {
		in := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte(strings.Repeat("x", 1000)), zero)
		p := ws.NewParser(ws.ParserConfig{})
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			p.Feed(in[:500])
			if _, ok, _ := p.Next(); ok {
				b.Fatal("message from half a frame")
			}
			p.Feed(in[500:])
			if _, ok, err := p.Next(); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
