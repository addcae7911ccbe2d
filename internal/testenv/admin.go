package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Admin sends an admin API request with h's admin token, body (if not
// nil) encoded as JSON, decodes a non-empty answer into out (if not nil)
// and returns the status.
func (h *HeraldEnv) Admin(tb testing.TB, method, path string, body, out any) int {
	tb.Helper()
	return adminRequest(tb, h.URL(), h.AdminToken(), method, path, body, out)
}

// Node is a running Herald the tests talk to: in the test's process
// (HeraldEnv) or a binary (Proc).
type Node interface {
	URL() string
	Admin(tb testing.TB, method, path string, body, out any) int
}

// adminRequest is Admin on base with token.
func adminRequest(tb testing.TB, base, token, method, path string, body, out any) int {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	code, raw := Do(tb, http.DefaultClient, req)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return code
}
