package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

func TestRESTPublishAuthAndValidation(t *testing.T) {
	h := testenv.Herald(t)
	otherKey, otherSecret := newApp(t, h, "other", nil)
	ok := `{"name":"e","data":"d","channels":["c"]}`
	cases := []struct {
		name, path, key, secret, body string
		status                        int
		code                          string
	}{
		{"ok", "/apps/app-id/events", key, secret, ok, 200, ""},
		{"unknown app", "/apps/nope/events", key, secret, ok, 404, "app_not_found"},
		{"wrong secret", "/apps/app-id/events", key, "wrong", ok, 401, "unauthorized"},
		{"another app's key", "/apps/app-id/events", otherKey, otherSecret, ok, 401, "unauthorized"},
		{"data too big", "/apps/app-id/events", key, secret, `{"name":"e","data":"` + strings.Repeat("x", 10241) + `","channels":["c"]}`, 413, "payload_too_large"},
		{"bad channel", "/apps/app-id/events", key, secret, `{"name":"e","data":"d","channels":["a b"]}`, 400, "bad_request"},
		{"long event name", "/apps/app-id/events", key, secret, `{"name":"` + strings.Repeat("e", 201) + `","data":"d","channel":"c"}`, 400, "bad_request"},
		{"no channels", "/apps/app-id/events", key, secret, `{"name":"e","data":"d"}`, 400, "bad_request"},
		{"pusher's namespace", "/apps/app-id/events", key, secret, `{"name":"pusher_internal:member_removed","data":"{\"user_id\":\"a\"}","channels":["presence-c"]}`, 400, "bad_request"},
		{"herald's namespace", "/apps/app-id/events", key, secret, `{"name":"herald_internal:ack","data":"d","channels":["c"]}`, 400, "bad_request"},
		{"pusher's namespace in a batch", "/apps/app-id/batch_events", key, secret, `{"batch":[{"name":"e","data":"d","channel":"c"},{"name":"pusher:error","data":"d","channel":"c"}]}`, 400, "bad_request"},
		{"data not a string", "/apps/app-id/events", key, secret, `{"name":"e","data":{},"channels":["c"]}`, 400, "bad_request"},
		{"malformed", "/apps/app-id/events", key, secret, `{`, 400, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := testenv.SignedRequest(t, "POST", h.URL(), c.path, c.key, c.secret, nil, []byte(c.body))
			if status != c.status {
				t.Fatalf("status = %d, want %d: %s", status, c.status, body)
			}
			if c.code != "" {
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				_ = json.Unmarshal(body, &e)
				if e.Error.Code != c.code {
					t.Fatalf("code = %q, want %q: %s", e.Error.Code, c.code, body)
				}
			}
		})
	}
}

func TestRESTPublishBasicAuthAndIdempotency(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	p.Subscribe("orders", key, "", "")
	post := func(user, pass, idem string) (int, string) {
		req, _ := http.NewRequest("POST", h.URL()+"/apps/app-id/events", bytes.NewReader([]byte(`{"name":"o","data":"1","channel":"orders"}`)))
		req.SetBasicAuth(user, pass)
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		code, b := testenv.Do(t, http.DefaultClient, req)
		return code, string(b)
	}
	if code, _ := post(key, "wrong", ""); code != 401 {
		t.Fatalf("basic with a wrong secret = %d", code)
	}
	code1, body1 := post(key, secret, "order-42")
	code2, body2 := post(key, secret, "order-42")
	if code1 != 200 || code2 != 200 || body1 != body2 {
		t.Fatalf("retries answered differently: %d %s / %d %s", code1, body1, code2, body2)
	}
	p.Expect("o", "orders")
	p.ExpectNothing(quiet) // the retry delivered nothing new
}
