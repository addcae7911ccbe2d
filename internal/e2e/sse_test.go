package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// sseEvent is one event of a text/event-stream.
type sseEvent struct {
	id, event, data string
	heartbeat       bool
}

type sseStream struct {
	t      *testing.T
	res    *http.Response
	lines  *bufio.Scanner
	cancel context.CancelFunc
}

func openSSE(t *testing.T, h *testenv.HeraldEnv, query string, lastID string) (*sseStream, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.URL()+"/sse?"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		b := new(strings.Builder)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			b.WriteString(sc.Text())
		}
		res.Body.Close()
		cancel()
		return nil, res.StatusCode, b.String()
	}
	s := &sseStream{t: t, res: res, lines: bufio.NewScanner(res.Body), cancel: cancel}
	t.Cleanup(s.close)
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	return s, 200, ""
}

func (s *sseStream) close() { s.cancel(); s.res.Body.Close() }

// next reads one event (or heartbeat comment) within the timeout.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	got := make(chan sseEvent, 1)
	go func() {
		var e sseEvent
		for s.lines.Scan() {
			line := s.lines.Text()
			switch {
			case line == "":
				if e.heartbeat || e.event != "" || e.data != "" {
					got <- e
					return
				}
			case strings.HasPrefix(line, ":"):
				e.heartbeat = true
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
		close(got)
	}()
	select {
	case e, ok := <-got:
		if !ok {
			s.t.Fatal("stream ended")
		}
		return e
	case <-time.After(testenv.PusherTimeout):
		s.t.Fatal("no SSE event")
	}
	return sseEvent{}
}

// nextEvent skips heartbeats, within the same timeout as next: a stream
// that only beats fails the test instead of hanging it.
func (s *sseStream) nextEvent() sseEvent {
	s.t.Helper()
	deadline := time.Now().Add(testenv.PusherTimeout)
	for time.Now().Before(deadline) {
		if e := s.next(); !e.heartbeat {
			return e
		}
	}
	s.t.Fatal("only heartbeats, no SSE event")
	return sseEvent{}
}

func TestSSEStreamAndResume(t *testing.T) {
	h := testenv.Herald(t)
	q := "key=" + key + "&channel=" + url.QueryEscape("a,b") + "&channel=news"
	s, code, _ := openSSE(t, h, q, "")
	if code != 200 {
		t.Fatalf("open = %d", code)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "e1", "one", "a,b")
	testenv.Trigger(t, h.URL(), appID, key, secret, "e2", "two", "news")
	// Two channels: their messages may arrive in either order. The
	// cursor to resume from is the id of the newer one.
	want := map[string]string{"a,b": "e1/one", "news": "e2/two"}
	var lastID string
	var lastSerial uint64
	for len(want) > 0 {
		e := s.nextEvent()
		var d struct {
			Event, Channel, Data string
			Serial               uint64
		}
		if err := json.Unmarshal([]byte(e.data), &d); err != nil {
			t.Fatalf("data %q: %v", e.data, err)
		}
		if w, ok := want[d.Channel]; !ok || w != e.event+"/"+d.Data || d.Serial == 0 || e.id == "" {
			t.Fatalf("event = %+v %+v, want one of %v", e, d, want)
		}
		delete(want, d.Channel)
		if d.Serial > lastSerial {
			lastSerial, lastID = d.Serial, e.id
		}
	}
	// Nothing else is published now: a heartbeat comes within the period.
	if e := s.next(); !e.heartbeat {
		t.Fatalf("expected a heartbeat, got %+v", e)
	}
	s.close()

	// Missed while away, on both channels: replayed in serial order with
	// one Last-Event-ID, then the resume result, then live.
	testenv.Trigger(t, h.URL(), appID, key, secret, "m", "x1", "news")
	testenv.Trigger(t, h.URL(), appID, key, secret, "m", "x2", "a,b")
	r, code, _ := openSSE(t, h, q, lastID)
	if code != 200 {
		t.Fatalf("reopen = %d", code)
	}
	for _, want := range []string{"x1", "x2"} {
		if e := r.nextEvent(); !strings.Contains(e.data, `"data":"`+want+`"`) {
			t.Fatalf("replay = %+v, want %s", e, want)
		}
	}
	if e := r.nextEvent(); e.event != "herald_internal:resume_result" || e.data != `{"recovered":true}` {
		t.Fatalf("resume result = %+v", e)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "m", "live", "news")
	if e := r.nextEvent(); !strings.Contains(e.data, `"live"`) {
		t.Fatalf("live = %+v", e)
	}
}

func TestSSERefusals(t *testing.T) {
	h := testenv.Herald(t)
	cases := []struct {
		name, query, lastID string
		status              int
	}{
		{"unknown key", "key=nope&channel=a", "", 404},
		{"no channel", "key=" + key, "", 400},
		{"bad channel", "key=" + key + "&channel=" + url.QueryEscape("a b"), "", 400},
		{"private channel", "key=" + key + "&channel=private-x", "", 403},
		{"malformed Last-Event-ID", "key=" + key + "&channel=a", "not-a-cursor", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, code, body := openSSE(t, h, c.query, c.lastID); code != c.status {
				t.Fatalf("status = %d (%s), want %d", code, body, c.status)
			}
		})
	}
}

func TestSSESharesTheConnectionQuota(t *testing.T) {
	h := testenv.Herald(t)
	k, _ := newApp(t, h, "sse-quota", map[string]any{"max_connections": 1})
	// newApp's probe connection may still be closing: retry until the one
	// slot is ours.
	testinfra.WaitUntilWithin(t, "the app's one connection", appChangeDeadline, func() bool {
		_, err := testenv.DialPusher(t, h.URL(), k, "", nil)
		return err == nil
	})
	if _, code, _ := openSSE(t, h, "key="+k+"&channel=a", ""); code != http.StatusTooManyRequests {
		t.Fatalf("SSE over the quota = %d", code)
	}
}

// TestSSECacheChannel: a stream opened without a cursor starts with each
// cache channel's last event, as a WebSocket subscriber's does, then goes
// live; an empty cache channel sends nothing until its first message.
func TestSSECacheChannel(t *testing.T) {
	h := testenv.Herald(t)
	testenv.Trigger(t, h.URL(), appID, key, secret, "price", "p1", "cache-prices")
	testenv.Trigger(t, h.URL(), appID, key, secret, "price", "p2", "cache-prices")
	s, code, _ := openSSE(t, h, "key="+key+"&channel=cache-prices&channel=cache-empty", "")
	if code != 200 {
		t.Fatalf("open = %d", code)
	}
	if e := s.nextEvent(); e.event != "price" || !strings.Contains(e.data, `"data":"p2"`) || !strings.Contains(e.data, `"channel":"cache-prices"`) {
		t.Fatalf("first event = %+v, want the cached p2", e)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "price", "p3", "cache-empty")
	if e := s.nextEvent(); !strings.Contains(e.data, `"data":"p3"`) || !strings.Contains(e.data, `"channel":"cache-empty"`) {
		t.Fatalf("live event = %+v, want p3", e)
	}
}

// TestSSEResumeFromAnUnknownCursor: a Last-Event-ID whose serial is no
// message of the stream's channels (beyond their newest, as a browser
// resends after the server's stream was reset, or another channel's) is
// answered recovered:false, whatever time it names, and live events
// follow. A future time used to count as recovered, and a serial beyond
// the newest hid every live event below it; such a serial is no position
// at all, and the result says so (reset).
func TestSSEResumeFromAnUnknownCursor(t *testing.T) {
	h := testenv.Herald(t)
	elsewhere := testenv.Trigger(t, h.URL(), appID, key, secret, "m", "x", "sse-elsewhere")["sse-elsewhere"]
	newest := testenv.Trigger(t, h.URL(), appID, key, secret, "m", "old", "sse-unknown")["sse-unknown"]
	now := time.Now().UnixMilli()
	const future = 99_999_999_999_999
	const reset, notRecovered = `{"recovered":false,"reset":true}`, `{"recovered":false}`
	for _, tc := range []struct{ name, lastID, want string }{
		{"beyond the newest", fmt.Sprintf("%d-%d", newest+1000, now), reset},
		{"beyond the newest, in the future", fmt.Sprintf("%d-%d", newest+1000, future), reset},
		{"another channel's, in the future", fmt.Sprintf("%d-%d", elsewhere, future), notRecovered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, code, body := openSSE(t, h, "key="+key+"&channel=sse-unknown", tc.lastID)
			if code != 200 {
				t.Fatalf("open = %d %s", code, body)
			}
			if e := s.nextEvent(); e.event != "herald_internal:resume_result" || e.data != tc.want {
				t.Fatalf("resume result = %+v, want %s", e, tc.want)
			}
			testenv.Trigger(t, h.URL(), appID, key, secret, "m", "live", "sse-unknown")
			if e := s.nextEvent(); !strings.Contains(e.data, `"data":"live"`) {
				t.Fatalf("live = %+v", e)
			}
		})
	}
}
