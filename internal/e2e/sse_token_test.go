package e2e_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

var sseCaps = channels.Capabilities{
	"private-s-*":  {channels.OpSubscribe},
	"presence-s-*": {channels.OpPresence},
}

func sseTokenQuery(tok string, chans ...string) string {
	q := url.Values{"key": {key}, "channel": chans}
	if tok != "" {
		q.Set("token", tok)
	}
	return q.Encode()
}

func TestSSEPrivateChannelWithAToken(t *testing.T) {
	h := testenv.Herald(t)
	tok := tenantToken(t, key, secret, appID, "tina", time.Hour, sseCaps)
	s, code, body := openSSE(t, h, sseTokenQuery(tok, "private-s-1", "news"), "")
	if code != 200 {
		t.Fatalf("open = %d (%s)", code, body)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "secret", "for tina", "private-s-1")
	testenv.Trigger(t, h.URL(), appID, key, secret, "public", "for all", "news")
	// Two channels: their messages may arrive in either order.
	want := map[string]string{"private-s-1": "secret/for tina", "news": "public/for all"}
	for len(want) > 0 {
		e := s.nextEvent()
		var d struct{ Channel, Data string }
		if err := json.Unmarshal([]byte(e.data), &d); err != nil {
			t.Fatalf("data %q: %v", e.data, err)
		}
		if w, ok := want[d.Channel]; !ok || w != e.event+"/"+d.Data {
			t.Fatalf("event = %+v, want one of %v", e, want)
		}
		delete(want, d.Channel)
	}
}

func TestSSETokenRefusals(t *testing.T) {
	h := testenv.Herald(t)
	good := tenantToken(t, key, secret, appID, "tina", time.Hour, sseCaps)
	cases := []struct {
		name, query string
		status      int
		says        string
	}{
		{"private without a token", sseTokenQuery("", "private-s-1"), 403, "without a token"},
		{"bad signature", sseTokenQuery(tenantToken(t, key, "wrong", appID, "tina", time.Hour, sseCaps), "private-s-1"), 401, "invalid token"},
		{"garbage token", sseTokenQuery("a.b.c", "news"), 401, "invalid token"},
		{"expired token", sseTokenQuery(tenantToken(t, key, secret, appID, "tina", -time.Second, sseCaps), "private-s-1"), 401, "expired"},
		{"no capability", sseTokenQuery(good, "private-s-1", "private-other"), 403, "private-other"},
		{"presence over SSE", sseTokenQuery(good, "presence-s-1"), 400, "presence"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, code, body := openSSE(t, h, c.query, "")
			if code != c.status || !strings.Contains(body, c.says) {
				t.Fatalf("status = %d (%s), want %d saying %q", code, body, c.status, c.says)
			}
		})
	}
}

func TestSSEStreamEndsAtTokenExpiry(t *testing.T) {
	h := testenv.Herald(t)
	// exp is a whole second, as in the token (NumericDate truncates);
	// time.Until(exp) added to tenantToken's later now lands at or just
	// past it, so the claim is exactly exp.
	exp := time.Now().Add(2 * time.Second).Truncate(time.Second)
	tok := tenantToken(t, key, secret, appID, "tina", time.Until(exp), sseCaps)
	s, code, body := openSSE(t, h, sseTokenQuery(tok, "private-s-1"), "")
	if code != 200 {
		t.Fatalf("open = %d (%s)", code, body)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "m", "before exp", "private-s-1")
	if e := s.nextEvent(); e.event != "m" {
		t.Fatalf("before exp: %+v", e)
	}
	e := s.nextEvent()
	if e.event != "pusher:error" || e.data != `{"code":4009,"message":"token expired"}` {
		t.Fatalf("at exp: %+v", e)
	}
	if time.Now().Before(exp) {
		t.Fatalf("stream ended at %s, before exp %s", time.Now(), exp)
	}
	s.expectEnd()
}

// expectEnd reads the rest of the stream and fails unless it ends
// (heartbeats aside) within the timeout.
func (s *sseStream) expectEnd() {
	s.t.Helper()
	ended := make(chan error, 1)
	go func() {
		for s.lines.Scan() {
			if line := s.lines.Text(); line != "" && !strings.HasPrefix(line, ":") {
				ended <- errors.New("more after the end: " + line)
				return
			}
		}
		ended <- nil
	}()
	select {
	case err := <-ended:
		if err != nil {
			s.t.Fatal(err)
		}
	case <-time.After(testenv.PusherTimeout):
		s.t.Fatal("the stream did not end")
	}
}
