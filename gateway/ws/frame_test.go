package ws_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/gateway/ws"
)

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		n      int
		header []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tt := range tests {
		payload := bytes.Repeat([]byte{'x'}, tt.n)
		got := ws.AppendFrame([]byte("prefix"), ws.OpText, true, payload)
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("n=%d: prefix lost", tt.n)
		}
		got = got[len("prefix"):]
		if len(got) != ws.FrameSize(tt.n) {
			t.Fatalf("n=%d: %d bytes, FrameSize says %d", tt.n, len(got), ws.FrameSize(tt.n))
		}
		if !bytes.Equal(got[:len(tt.header)], tt.header) || !bytes.Equal(got[len(tt.header):], payload) {
			t.Fatalf("n=%d: header % x, want % x", tt.n, got[:len(tt.header)], tt.header)
		}
	}
	if got := ws.AppendHeader(nil, ws.OpContinuation, false, 3); !bytes.Equal(got, []byte{0x00, 3}) {
		t.Fatalf("non-final continuation header % x", got)
	}
	if got := ws.AppendHeader(nil, ws.OpPong, true, 0); !bytes.Equal(got, []byte{0x8A, 0}) {
		t.Fatalf("pong header % x", got)
	}
}

func TestAppendClose(t *testing.T) {
	if got := ws.AppendClose(nil, ws.CloseNormal, ""); !bytes.Equal(got, []byte{0x88, 2, 0x03, 0xE8}) {
		t.Fatalf("close 1000: % x", got)
	}
	if got := ws.AppendClose(nil, 0, "ignored"); !bytes.Equal(got, []byte{0x88, 0}) {
		t.Fatalf("close without status: % x", got)
	}
	got := ws.AppendClose(nil, 4100, "over")
	if got[1] != 6 || binary.BigEndian.Uint16(got[2:]) != 4100 || string(got[4:]) != "over" {
		t.Fatalf("close 4100: % x", got)
	}
	long := strings.Repeat("é", 100) // 200 bytes: cut inside a rune at 123
	got = ws.AppendClose(nil, 4000, long)
	reason := got[4:]
	if int(got[1]) != len(reason)+2 || len(reason) > ws.MaxCloseReason || len(reason) < ws.MaxCloseReason-1 {
		t.Fatalf("long reason: length byte %d, reason %d bytes", got[1], len(reason))
	}
	if !utf8.Valid(reason) {
		t.Fatal("long reason cut inside a rune")
	}
}
