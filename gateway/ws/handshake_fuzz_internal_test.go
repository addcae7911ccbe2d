package ws

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// FuzzCheckHandshake parses any bytes as an HTTP request, as the server
// does before Upgrade sees it, and checks the handshake rules on it: never
// a panic; an accepted request is a GET over HTTP/1.1 or later asking to
// upgrade to websocket with version 13 and one key of 16 bytes; a refusal
// carries one of the statuses Upgrade documents. The seed corpus in
// testdata/fuzz/FuzzCheckHandshake holds valid and broken handshakes.
func FuzzCheckHandshake(f *testing.F) {
	f.Add([]byte("GET /app/k HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		hs := checkHandshake(r)
		if hs != nil {
			switch hs.status {
			case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusUpgradeRequired:
			default:
				t.Fatalf("refused with %d (%s)", hs.status, hs.reason)
			}
			if hs.reason == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) {
			t.Fatalf("accepted %s %s", r.Method, r.Proto)
		}
		if !hasToken(r.Header, "Upgrade", "websocket") || !hasToken(r.Header, "Connection", "upgrade") {
			t.Fatalf("accepted without an upgrade: %v", r.Header)
		}
		if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
			t.Fatalf("accepted version %q", v)
		}
		keys := r.Header.Values("Sec-WebSocket-Key")
		if len(keys) != 1 {
			t.Fatalf("accepted %d keys", len(keys))
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0]))
		if err != nil || len(key) != keyLen {
			t.Fatalf("accepted key %q", keys[0])
		}
		if AcceptKey(strings.TrimSpace(keys[0])) == "" {
			t.Fatal("no accept key")
		}
	})
}
