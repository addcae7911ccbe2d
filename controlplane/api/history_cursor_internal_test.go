package api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/heraldhq/herald/internal/secretbox"
)

func newTestSigner(tb testing.TB) *cursorSigner {
	tb.Helper()
	key, err := secretbox.ParseKey(secretbox.GenerateKey())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := newCursorSigner(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

var testScope = cursorScope{appID: "app1", channel: "presence-a.b", backwards: true, start: "1000", end: "", fromSerial: "7"}

func TestCursorRoundTrip(t *testing.T) {
	s := newTestSigner(t)
	for _, serial := range []uint64{0, 1, 1 << 40, 1<<63 - 1} {
		c := s.sign(testScope, serial)
		got, err := s.verify(testScope, c)
		if err != nil || got != serial {
			t.Errorf("verify(sign(%d)) = %d, %v", serial, got, err)
		}
	}
	if _, err := newCursorSigner(nil); err == nil {
		t.Error("a signer without a master key")
	}
}

// TestCursorTamperEvident: flipping any bit of a cursor, or using it in
// another scope or under another master key, is refused.
func TestCursorTamperEvident(t *testing.T) {
	s := newTestSigner(t)
	c := s.sign(testScope, 12345)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			if _, err := s.verify(testScope, base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, errBadCursor) {
				t.Fatalf("byte %d bit %d flipped: err = %v", i, bit, err)
			}
		}
	}
	scopes := map[string]func(*cursorScope){
		"app":         func(s *cursorScope) { s.appID = "app2" },
		"channel":     func(s *cursorScope) { s.channel = "presence-a.c" },
		"direction":   func(s *cursorScope) { s.backwards = false },
		"start":       func(s *cursorScope) { s.start = "1001" },
		"end":         func(s *cursorScope) { s.end = "5" },
		"from_serial": func(s *cursorScope) { s.fromSerial = "" },
		// Fields must not run into each other.
		"shifted": func(s *cursorScope) { s.appID, s.channel = "app1presence-a", ".b" },
	}
	for name, change := range scopes {
		sc := testScope
		change(&sc)
		if _, err := s.verify(sc, c); !errors.Is(err, errBadCursor) {
			t.Errorf("cursor accepted with another %s: %v", name, err)
		}
	}
	if _, err := newTestSigner(t).verify(testScope, c); !errors.Is(err, errBadCursor) {
		t.Errorf("cursor accepted under another master key: %v", err)
	}
	// The last character carries 2 of its 6 bits: the others must be 0.
	last := c[len(c)-1]
	variant := c[:len(c)-1] + string(rune(last+1))
	for _, bad := range []string{"", "x", c + "A", c[1:], "!" + c[1:], variant} {
		if _, err := s.verify(testScope, bad); !errors.Is(err, errBadCursor) {
			t.Errorf("verify(%q) = %v", bad, err)
		}
	}
}

// FuzzCursorVerify: arbitrary cursors never crash the parser, and none
// but those the signer made verifies.
func FuzzCursorVerify(f *testing.F) {
	s := newTestSigner(f)
	good := s.sign(testScope, 42)
	for _, seed := range []string{good, "", "AQAAAAAAAAAq", good[:10], good + good} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, c string) {
		serial, err := s.verify(testScope, c)
		if err == nil && c != s.sign(testScope, serial) && c != good {
			// A MAC collision would be news; any other acceptance is a bug.
			t.Fatalf("accepted %q as serial %d", c, serial)
		}
	})
}
