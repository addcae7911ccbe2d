package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// refreshNotice is the token expiry notice of these tests: short tokens
// (a few seconds) enter the window at once.
const refreshNotice = 2 * time.Second

func refreshHerald(t *testing.T) *testenv.HeraldEnv {
	return testenv.Herald(t, func(c *platform.Config) { c.Gateway.TokenExpiryNotice = refreshNotice })
}

// expiresAt decodes the expires_at of a token_expiring or token_refreshed.
func expiresAt(t *testing.T, e testenv.Event) time.Time {
	t.Helper()
	var d struct {
		ExpiresAt string `json:"expires_at"`
	}
	e.DecodeData(t, &d)
	at, err := time.Parse(time.RFC3339, d.ExpiresAt)
	if err != nil {
		t.Fatalf("%s expires_at: %v (%s)", e.Event, err, e.Raw)
	}
	return at
}

// expectOpen proves that p still receives on channel ch, reporting any
// event on a channel in gone that arrived in between.
func expectOpen(t *testing.T, h *testenv.HeraldEnv, p *testenv.PusherClient, ch, data string, gone ...string) {
	t.Helper()
	testenv.Trigger(t, h.URL(), appID, key, secret, "probe", data, ch)
	for {
		e, skipped := p.Expect("probe", ch)
		for _, s := range skipped {
			for _, g := range gone {
				if s.Channel == g {
					t.Fatalf("event on dropped channel %s: %s", g, s.Raw)
				}
			}
		}
		if e.Data == data {
			return
		}
	}
}

func TestTokenExpiringThenRefresh(t *testing.T) {
	h := refreshHerald(t)
	caps := channels.Capabilities{"private-chat-*": {channels.OpSubscribe}}
	p, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tenantToken(t, key, secret, appID, "tina", 3*time.Second, caps), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := p.Subscribe("private-chat-1", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe: %+v", e)
	}

	e, _ := p.Expect("herald_internal:token_expiring", "")
	oldExp := expiresAt(t, e)
	if !time.Now().Before(oldExp) {
		t.Fatalf("token_expiring came at %s, after exp %s", time.Now(), oldExp)
	}

	// data as an object, as pusher-js sends it.
	p.Send("herald:refresh", "", map[string]any{"token": tenantToken(t, key, secret, appID, "tina", time.Hour, caps)})
	r, skipped := p.Expect("herald_internal:token_refreshed", "")
	if len(skipped) != 0 {
		t.Fatalf("before token_refreshed: %v", skipped)
	}
	if newExp := expiresAt(t, r); !newExp.After(oldExp.Add(time.Minute)) {
		t.Fatalf("refreshed expires_at %s, old %s", newExp, oldExp)
	}

	// Past the old exp: no close, no second notice, still delivering.
	p.ExpectNothing(time.Until(oldExp) + 2*refreshNotice)
	expectOpen(t, h, p, "private-chat-1", "after the old exp")

	// data as a JSON string works too.
	raw, _ := json.Marshal(map[string]string{"token": tenantToken(t, key, secret, appID, "tina", 2*time.Hour, caps)})
	frame, _ := json.Marshal(map[string]any{"event": "herald:refresh", "data": string(raw)})
	p.SendRaw(string(frame))
	p.Expect("herald_internal:token_refreshed", "")
}

func TestRefreshNarrowingCapabilitiesDropsChannels(t *testing.T) {
	h := refreshHerald(t)
	wide := channels.Capabilities{
		"private-a-*":     {channels.OpSubscribe},
		"private-b-*":     {channels.OpSubscribe},
		"presence-room-*": {channels.OpPresence},
	}
	p, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tenantToken(t, key, secret, appID, "tina", time.Hour, wide), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tenantToken(t, key, secret, appID, "walt", time.Hour, wide), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := w.Subscribe("presence-room-1", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("watcher subscribe: %+v", e)
	}
	for _, ch := range []string{"private-a-1", "private-b-1", "presence-room-1"} {
		if e := p.Subscribe(ch, key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
			t.Fatalf("subscribe %s: %+v", ch, e)
		}
	}
	w.Expect("pusher_internal:member_added", "presence-room-1")

	narrow := channels.Capabilities{"private-a-*": {channels.OpSubscribe}}
	p.Send("herald:refresh", "", map[string]any{"token": tenantToken(t, key, secret, appID, "tina", time.Hour, narrow)})
	p.Expect("herald_internal:token_refreshed", "")
	for _, ch := range []string{"presence-room-1", "private-b-1"} {
		e, _ := p.Expect("pusher:subscription_error", ch)
		var d struct {
			Type   string
			Status int
		}
		e.DecodeData(t, &d)
		if d.Type != "Forbidden" || d.Status != 403 {
			t.Fatalf("subscription_error on %s: %s", ch, e.Raw)
		}
	}
	removed, _ := w.Expect("pusher_internal:member_removed", "presence-room-1")
	if !strings.Contains(removed.Data, `"tina"`) {
		t.Fatalf("member_removed = %s", removed.Raw)
	}

	// Published after the drop: nothing arrives on the dropped channels,
	// the kept one still delivers.
	testenv.Trigger(t, h.URL(), appID, key, secret, "probe", "dropped", "private-b-1", "presence-room-1")
	expectOpen(t, h, p, "private-a-1", "kept", "private-b-1", "presence-room-1")
	// Channels are not ordered with each other: a wrongly delivered
	// "dropped" may come after "kept", so wait a while for it too.
	p.ExpectNothing(quiet)

	// Subscribing again follows the new token.
	if e := p.Subscribe("private-b-1", key, "", ""); e.Event != "pusher:subscription_error" {
		t.Fatalf("resubscribe beyond the new token: %+v", e)
	}
}

func TestBadRefreshKeepsTheOldTokenUntilItExpires(t *testing.T) {
	h := refreshHerald(t)
	otherKey, otherSecret := newApp(t, h, "refresh-other", nil)
	caps := channels.Capabilities{"private-chat-*": {channels.OpSubscribe}}
	p, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tenantToken(t, key, secret, appID, "tina", 4*time.Second, caps), nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Subscribe("private-chat-1", key, "", "")

	bad := map[string]string{
		"bad signature":   tenantToken(t, key, "wrong-secret", appID, "tina", time.Hour, caps),
		"another app":     tenantToken(t, otherKey, otherSecret, "refresh-other", "tina", time.Hour, caps),
		"another user":    tenantToken(t, key, secret, appID, "mallory", time.Hour, caps),
		"already expired": tenantToken(t, key, secret, appID, "tina", -time.Second, caps),
		"garbage":         "a.b.c",
		"empty":           "",
	}
	for name, tok := range bad {
		p.Send("herald:refresh", "", map[string]any{"token": tok})
		e, skipped := p.Expect("pusher:error", "")
		var d struct {
			Code    int
			Message string
		}
		e.DecodeData(t, &d)
		if d.Code != 4009 || d.Message == "" {
			t.Fatalf("%s: %s", name, e.Raw)
		}
		for _, s := range skipped {
			if s.Event == "herald_internal:token_refreshed" {
				t.Fatalf("%s: refreshed", name)
			}
		}
	}
	expectOpen(t, h, p, "private-chat-1", "still open")

	// No valid refresh by exp: pusher:error 4009, then close 4009.
	e, _ := p.Expect("pusher:error", "")
	if !strings.Contains(e.Data, "4009") || !strings.Contains(e.Data, "expired") {
		t.Fatalf("at exp: %s", e.Raw)
	}
	if code := p.ExpectClose(); code != 4009 {
		t.Fatalf("closed with %d", code)
	}
}

func TestRefreshWithoutATokenConnection(t *testing.T) {
	h := refreshHerald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	p.Subscribe("news", key, "", "")
	p.Send("herald:refresh", "", map[string]any{"token": tenantToken(t, key, secret, appID, "tina", time.Hour, nil)})
	e, _ := p.Expect("pusher:error", "")
	if !strings.Contains(e.Data, "4009") {
		t.Fatalf("refresh on a signature connection: %s", e.Raw)
	}
	expectOpen(t, h, p, "news", "open")
}
