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
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	code, raw := Do(tb, http.DefaultClient, req)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return code
}
