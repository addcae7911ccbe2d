package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/sse"
)

var refreshNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testClaims(sub string, exp time.Time, caps channels.Capabilities) *channels.TokenClaims {
	return &channels.TokenClaims{App: benchApp, Capabilities: caps, RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, ExpiresAt: jwt.NewNumericDate(exp),
	}}
}

func mustChannel(t *testing.T, name string) channels.Channel {
	t.Helper()
	ch, err := channels.ParseChannel(name)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestTokenAllows(t *testing.T) {
	tok := testClaims("ann", refreshNow, channels.Capabilities{
		"private-a-*":   {channels.OpSubscribe},
		"presence-p-*":  {channels.OpPresence},
		"private-pub-*": {channels.OpPublish},
	})
	anon := testClaims("", refreshNow, channels.Capabilities{"*": {channels.OpPresence, channels.OpSubscribe}})
	cases := []struct {
		t       *channels.TokenClaims
		channel string
		want    bool
	}{
		{tok, "news", true},
		{tok, "private-a-1", true},
		{tok, "private-b-1", false},
		{tok, "private-pub-1", false}, // publish alone does not subscribe
		{tok, "private-encrypted-a-1", false},
		{tok, "presence-p-1", true},
		{tok, "presence-q-1", false},
		{tok, "#server-to-user-ann", true},
		{tok, "#server-to-user-bob", false},
		{anon, "presence-p-1", false}, // presence needs a sub
		{anon, "#server-to-user-", false},
		{anon, "private-encrypted-x", true},
	}
	for _, c := range cases {
		ch, err := channels.ParseChannel(c.channel)
		if err != nil {
			continue // a name ParseChannel refuses never reaches tokenAllows
		}
		if got := tokenAllows(c.t, ch); got != c.want {
			t.Errorf("tokenAllows(sub %q, %s) = %v, want %v", c.t.Subject, c.channel, got, c.want)
		}
	}
}

func TestSSEChannelRefusal(t *testing.T) {
	tok := testClaims("ann", refreshNow, channels.Capabilities{"private-a-*": {channels.OpSubscribe}, "presence-*": {channels.OpPresence}})
	cases := []struct {
		name    string
		t       *channels.TokenClaims
		channel string
		status  int
	}{
		{"public without token", nil, "news", 0},
		{"private without token", nil, "private-a-1", http.StatusForbidden},
		{"private with capability", tok, "private-a-1", 0},
		{"private without capability", tok, "private-b-1", http.StatusForbidden},
		{"presence is WebSocket only", tok, "presence-room", http.StatusBadRequest},
		{"public with token", tok, "news", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg, status := sseChannelRefusal(c.t, mustChannel(t, c.channel))
			if status != c.status {
				t.Fatalf("status = %d (%s), want %d", status, msg, c.status)
			}
			if status == http.StatusForbidden && c.t != nil && !strings.Contains(msg, c.channel) {
				t.Fatalf("refusal %q does not name the channel", msg)
			}
		})
	}
}

func TestTokenEventEncoding(t *testing.T) {
	frame := tokenEvent(protocol.EventTokenExpiring, testClaims("ann", refreshNow.Add(90*time.Second), nil))
	var outer struct{ Event, Data string }
	if err := json.Unmarshal(frame, &outer); err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	if outer.Event != protocol.EventTokenExpiring || outer.Data != `{"expires_at":"2026-05-01T12:01:30Z"}` {
		t.Fatalf("event = %s", frame)
	}
}

// heldConn returns a token connection of g whose writer is held, so
// that what it queues stays in c.queue for the test to read.
func heldConn(g *Gateway, claims *channels.TokenClaims) *conn {
	c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, key: "k"}
	c.token.Store(&connToken{claims: claims})
	c.writing = true
	return c
}

func queued(c *conn) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(c.queue))
	for i, f := range c.queue {
		out[i] = framePayload(f)
	}
	return out
}

func TestCheckToken(t *testing.T) {
	const notice = 10 * time.Second
	exp := refreshNow.Add(time.Minute)
	g := benchGateway(t)

	t.Run("notice once, within the window only", func(t *testing.T) {
		c := heldConn(g, testClaims("ann", exp, nil))
		c.checkToken(exp.Add(-notice-time.Second).UnixNano(), notice)
		if q := queued(c); len(q) != 0 {
			t.Fatalf("before the window: %s", q)
		}
		c.checkToken(exp.Add(-notice).UnixNano(), notice)
		c.checkToken(exp.Add(-time.Second).UnixNano(), notice)
		q := queued(c)
		if len(q) != 1 || !bytes.Contains(q[0], []byte(protocol.EventTokenExpiring)) {
			t.Fatalf("in the window: %s", q)
		}
		// A refresh resets the notice.
		exp2 := exp.Add(time.Hour)
		c.token.Store(&connToken{claims: testClaims("ann", exp2, nil)})
		c.checkToken(exp.Add(time.Second).UnixNano(), notice) // past the old exp
		c.checkToken(exp2.Add(-time.Second).UnixNano(), notice)
		if q := queued(c); len(q) != 2 || !bytes.Contains(q[1], []byte("13:01:00Z")) || c.closing {
			t.Fatalf("after a refresh: %s closing=%v", q, c.closing)
		}
	})
	t.Run("a token shorter-lived than twice the notice: notice at half its lifetime", func(t *testing.T) {
		const lifetime = 12 * time.Second // < notice*2
		accepted := exp.Add(-lifetime)
		c := heldConn(g, testClaims("ann", exp, nil))
		c.token.Store(newConnToken(testClaims("ann", exp, nil), accepted))
		c.checkToken(accepted.UnixNano(), notice)
		c.checkToken(accepted.Add(lifetime/2-time.Nanosecond).UnixNano(), notice)
		if q := queued(c); len(q) != 0 {
			t.Fatalf("before half its lifetime: %s", q)
		}
		c.checkToken(accepted.Add(lifetime/2).UnixNano(), notice)
		if q := queued(c); len(q) != 1 {
			t.Fatalf("at half its lifetime: %s", q)
		}
		// A refresh to another 12 s token is not noticed at once again.
		refreshed := accepted.Add(lifetime / 2)
		exp2 := refreshed.Add(lifetime)
		c.token.Store(newConnToken(testClaims("ann", exp2, nil), refreshed))
		c.checkToken(refreshed.UnixNano(), notice)
		c.checkToken(refreshed.Add(lifetime/2-time.Nanosecond).UnixNano(), notice)
		if q := queued(c); len(q) != 1 {
			t.Fatalf("right after the refresh: %s", q)
		}
		c.checkToken(refreshed.Add(lifetime/2).UnixNano(), notice)
		if q := queued(c); len(q) != 2 {
			t.Fatalf("half the refreshed token's lifetime: %s", q)
		}
	})
	t.Run("a long-lived token: notice at the configured lead", func(t *testing.T) {
		c := heldConn(g, testClaims("ann", exp, nil))
		c.token.Store(newConnToken(testClaims("ann", exp, nil), exp.Add(-time.Hour)))
		c.checkToken(exp.Add(-notice-time.Nanosecond).UnixNano(), notice)
		if q := queued(c); len(q) != 0 {
			t.Fatalf("before the window: %s", q)
		}
		c.checkToken(exp.Add(-notice).UnixNano(), notice)
		if q := queued(c); len(q) != 1 {
			t.Fatalf("in the window: %s", q)
		}
	})
	t.Run("expired closes with 4009", func(t *testing.T) {
		c := heldConn(g, testClaims("ann", exp, nil))
		c.checkToken(exp.Add(time.Nanosecond).UnixNano(), notice)
		q := queued(c)
		if code, _ := c.closeWithLocked(); !c.closing || code != uint16(channels.PusherUnauthorized) || len(q) != 1 || !bytes.Contains(q[0], []byte(`\"code\":4009`)) {
			t.Fatalf("closing=%v code=%d queue=%s", c.closing, code, q)
		}
	})
	t.Run("SSE: no notice, a final error at exp", func(t *testing.T) {
		c := heldConn(g, testClaims("ann", exp, nil))
		st := sse.NewStream(1)
		c.sink = sseSink{stream: st}
		c.checkToken(exp.Add(-time.Second).UnixNano(), notice)
		if st.Final() != nil {
			t.Fatal("SSE stream ended before exp")
		}
		c.checkToken(exp.Add(time.Second).UnixNano(), notice)
		<-st.Done()
		want := "event: " + protocol.EventError + "\ndata: {\"code\":4009,\"message\":\"token expired\"}\n\n"
		if f := st.Final(); string(f) != want {
			t.Fatalf("final = %q", f)
		}
	})
}
