package e2e_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

const (
	appID  = testenv.AppID
	key    = testenv.AppKey
	secret = testenv.AppSecret
)

// quiet is how long a test waits to be sure that nothing arrives.
const quiet = 300 * time.Millisecond

func TestConnectRefusals(t *testing.T) {
	h := testenv.Herald(t)
	cases := []struct {
		name, key, query string
		header           http.Header
		code             uint16
	}{
		{"unknown key", "nope", "", nil, 4001},
		{"no protocol", key, "client=x", nil, 4008},
		{"old protocol", key, "protocol=6", nil, 4007},
		{"bad protocol", key, "protocol=seven", nil, 4006},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := testenv.DialPusher(t, h.URL(), c.key, c.query, c.header)
			var cl testenv.Closed
			if err == nil || !errorsAs(err, &cl) || cl.Code != c.code {
				t.Fatalf("err = %v, want close %d", err, c.code)
			}
		})
	}
}

func TestConnectEstablished(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	if p.ActivityTimeout != 120 || !strings.Contains(p.SocketID, ".") {
		t.Fatalf("handshake = %q %d", p.SocketID, p.ActivityTimeout)
	}
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")
}

func TestPublicChannelDelivery(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	b := testenv.MustDialPusher(t, h.URL(), key)
	for _, p := range []*testenv.PusherClient{a, b} {
		if e := p.Subscribe("news.sport", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
			t.Fatalf("subscribe = %+v", e)
		}
	}
	data := `{"score":"2-1","odd":"é\u2028\"quoted\""}`
	serials := testenv.Trigger(t, h.URL(), appID, key, secret, "goal", data, "news.sport")
	for _, p := range []*testenv.PusherClient{a, b} {
		e, _ := p.Expect("goal", "news.sport")
		if e.Data != data {
			t.Fatalf("data = %q, want %q", e.Data, data)
		}
		if e.Serial == 0 || e.Serial != serials["news.sport"] {
			t.Fatalf("serial = %d, want %d", e.Serial, serials["news.sport"])
		}
	}
	// Order is kept per channel.
	for i := 0; i < 20; i++ {
		testenv.Trigger(t, h.URL(), appID, key, secret, "n", string(rune('a'+i)), "news.sport")
	}
	var last uint64
	for i := 0; i < 20; i++ {
		e, _ := a.Expect("n", "news.sport")
		if e.Data != string(rune('a'+i)) || e.Serial <= last {
			t.Fatalf("message %d = %q serial %d after %d", i, e.Data, e.Serial, last)
		}
		last = e.Serial
	}
	// After unsubscribing, nothing more arrives.
	b.Send("pusher:unsubscribe", "", map[string]any{"channel": "news.sport"})
	b.Send("pusher:unsubscribe", "", map[string]any{"channel": "news.sport"})
	b.Send("pusher:ping", "", map[string]any{})
	b.Expect("pusher:pong", "")
	testenv.Trigger(t, h.URL(), appID, key, secret, "late", "x", "news.sport")
	a.Expect("late", "news.sport")
	b.ExpectNothing(quiet)
}

func TestPrivateChannelAuth(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	if e := p.Subscribe("private-a", key, "wrong-secret", ""); e.Event != "pusher:subscription_error" {
		t.Fatalf("bad signature: %+v", e)
	} else {
		var d struct {
			Type   string
			Status int
		}
		e.DecodeData(t, &d)
		if d.Type != "AuthError" || d.Status != 401 {
			t.Fatalf("bad signature error = %+v", d)
		}
	}
	if e := p.Subscribe("private-a", key, secret, ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("good signature: %+v", e)
	}
	// A signature for another socket is refused.
	other := testenv.MustDialPusher(t, h.URL(), key)
	p.Send("pusher:subscribe", "", map[string]any{"channel": "private-b",
		"auth": signFor(other.SocketID, "private-b")})
	e, _ := p.Expect("pusher:subscription_error", "private-b")
	if !strings.Contains(e.Data, "AuthError") {
		t.Fatalf("foreign signature: %+v", e)
	}
	bad := p.Subscribe("bad channel!", key, "", "")
	if !strings.Contains(bad.Data, "InvalidChannel") || !strings.Contains(bad.Data, "400") {
		t.Fatalf("invalid channel: %+v", bad)
	}
}

func TestPresenceMembers(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	b := testenv.MustDialPusher(t, h.URL(), key)
	b2 := testenv.MustDialPusher(t, h.URL(), key)
	ch := "presence-room.1"
	e := a.Subscribe(ch, key, secret, `{"user_id":"alice","user_info":{"name":"Alice"}}`)
	var roster struct {
		Presence struct {
			IDs   []string
			Hash  map[string]map[string]string
			Count int
		}
	}
	e.DecodeData(t, &roster)
	if roster.Presence.Count != 1 || roster.Presence.Hash["alice"]["name"] != "Alice" {
		t.Fatalf("first roster = %+v", roster)
	}
	e = b.Subscribe(ch, key, secret, `{"user_id":"bob"}`)
	e.DecodeData(t, &roster)
	if roster.Presence.Count != 2 {
		t.Fatalf("second roster = %+v", roster)
	}
	added, _ := a.Expect("pusher_internal:member_added", ch)
	if !strings.Contains(added.Data, `"bob"`) {
		t.Fatalf("member_added = %+v", added)
	}
	// Bob again on a second connection: no new member, and the joiner never
	// hears about itself.
	b2.Subscribe(ch, key, secret, `{"user_id":"bob"}`)
	b.ExpectNothing(quiet)
	a.ExpectNothing(quiet)
	b2.WS().Close()
	a.ExpectNothing(quiet)
	b.Send("pusher:unsubscribe", "", map[string]any{"channel": ch})
	removed, _ := a.Expect("pusher_internal:member_removed", ch)
	if !strings.Contains(removed.Data, `"bob"`) {
		t.Fatalf("member_removed = %+v", removed)
	}
}

func TestClientEvents(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	b := testenv.MustDialPusher(t, h.URL(), key)
	ch := "presence-chat"
	a.Subscribe(ch, key, secret, `{"user_id":"a"}`)
	b.Subscribe(ch, key, secret, `{"user_id":"b"}`)
	a.Expect("pusher_internal:member_added", ch)

	a.Send("client-typing", ch, map[string]any{"on": true})
	e, _ := b.Expect("client-typing", ch)
	if e.Data != `{"on":true}` || e.UserID != "a" || e.Serial == 0 {
		t.Fatalf("client event = %+v", e)
	}
	a.ExpectNothing(quiet) // never echoed to the sender

	// Refused on a public channel and on a channel not joined.
	a.Subscribe("public-x", key, "", "")
	a.Send("client-x", "public-x", map[string]any{})
	errEv, _ := a.Expect("pusher:error", "")
	if !strings.Contains(errEv.Data, "4009") {
		t.Fatalf("public client event: %+v", errEv)
	}
	a.Send("client-x", "private-not-joined", map[string]any{})
	a.Expect("pusher:error", "")
	// Refused on an encrypted channel, saying so: the server could not
	// encrypt what it relays.
	mustSucceed(t, a.Subscribe("private-encrypted-x", key, secret, ""))
	a.Send("client-x", "private-encrypted-x", map[string]any{})
	if errEv, _ := a.Expect("pusher:error", ""); !strings.Contains(errEv.Data, "not allowed on encrypted channels") {
		t.Fatalf("encrypted client event: %+v", errEv)
	}

	// Over 10 per second: 4301, and the connection stays open.
	for i := 0; i < 15; i++ {
		a.Send("client-burst", ch, map[string]any{"i": i})
	}
	limited, _ := a.Expect("pusher:error", "")
	if !strings.Contains(limited.Data, "4301") {
		t.Fatalf("rate limit: %+v", limited)
	}
	a.Send("pusher:ping", "", map[string]any{})
	a.Expect("pusher:pong", "")
}

func TestSigninAndUserChannel(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	a.Signin(key, secret, `{"id":"u-1","name":"Ann"}`)
	if e := a.Subscribe("#server-to-user-u-1", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("own user channel: %+v", e)
	}
	if e := a.Subscribe("#server-to-user-u-2", key, "", ""); !strings.Contains(e.Data, "Forbidden") {
		t.Fatalf("other user's channel: %+v", e)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "hello", "for you", "#server-to-user-u-1")
	if e, _ := a.Expect("hello", "#server-to-user-u-1"); e.Data != "for you" {
		t.Fatalf("user event = %+v", e)
	}

	bad := testenv.MustDialPusher(t, h.URL(), key)
	bad.Send("pusher:signin", "", map[string]any{"auth": key + ":00", "user_data": `{"id":"x"}`})
	if code := bad.ExpectClose(); code != 4009 {
		t.Fatalf("bad signin closed with %d", code)
	}
}

func TestCacheChannel(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	a.Subscribe("cache-scores", key, "", "")
	a.Expect("pusher:cache_miss", "cache-scores")
	testenv.Trigger(t, h.URL(), appID, key, secret, "score", "1-0", "cache-scores")
	testenv.Trigger(t, h.URL(), appID, key, secret, "score", "2-0", "cache-scores")
	b := testenv.MustDialPusher(t, h.URL(), key)
	b.Subscribe("cache-scores", key, "", "")
	if e, _ := b.Expect("score", "cache-scores"); e.Data != "2-0" {
		t.Fatalf("cached event = %+v", e)
	}
}

func TestBadInputKeepsConnection(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	for _, frame := range []string{`not json`, `[]`, `{"event":1}`, `{"data":{}}`, `{"event":"pusher:nope"}`,
		`{"event":"pusher:subscribe","data":"x"}`, `{"event":"whatever"}`} {
		p.SendRaw(frame)
		p.Expect("pusher:error", "")
	}
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")

	// Over the default app's cap (max_message_bytes plus the envelope
	// allowance, 26 KiB): refused from the frame header.
	big := testenv.MustDialPusher(t, h.URL(), key)
	big.SendRaw(`{"event":"client-x","data":"` + strings.Repeat("x", 40<<10) + `"}`)
	if code := big.ExpectClose(); code != 1009 {
		t.Fatalf("oversized frame closed with %d", code)
	}
}

func errorsAs(err error, target *testenv.Closed) bool { return errors.As(err, target) }

func signFor(socketID, channel string) string {
	return channels.SignAuth(key, secret, channels.ChannelStringToSign(socketID, channel, ""))
}

func TestWatchlist(t *testing.T) {
	h := testenv.Herald(t)
	watcher := testenv.MustDialPusher(t, h.URL(), key)
	friend := testenv.MustDialPusher(t, h.URL(), key)
	friend.Signin(key, secret, `{"id":"friend"}`)

	watcher.Signin(key, secret, `{"id":"me","watchlist":["friend","stranger"]}`)
	e, _ := watcher.Expect("pusher_internal:watchlist_events", "")
	if e.Data != `{"events":[{"name":"online","user_ids":["friend"]}]}` {
		t.Fatalf("initial watchlist event = %s", e.Data)
	}
	stranger := testenv.MustDialPusher(t, h.URL(), key)
	stranger.Signin(key, secret, `{"id":"stranger"}`)
	if e, _ := watcher.Expect("pusher_internal:watchlist_events", ""); !strings.Contains(e.Data, `"online","user_ids":["stranger"]`) {
		t.Fatalf("online event = %s", e.Data)
	}
	// A second connection of the same user changes nothing; the last one
	// leaving makes it offline.
	friend2 := testenv.MustDialPusher(t, h.URL(), key)
	friend2.Signin(key, secret, `{"id":"friend"}`)
	watcher.ExpectNothing(quiet)
	friend.WS().Close()
	watcher.ExpectNothing(quiet)
	friend2.WS().Close()
	if e, _ := watcher.Expect("pusher_internal:watchlist_events", ""); !strings.Contains(e.Data, `"offline","user_ids":["friend"]`) {
		t.Fatalf("offline event = %s", e.Data)
	}
}
