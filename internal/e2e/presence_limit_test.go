package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/testenv"
)

// TestPresenceLimitConcurrentJoins: with max_presence_members 2 and one
// member in, new users subscribing at once on one gateway: exactly one
// gets in, the others get subscription_error LimitReached 403, and the
// REST roster never holds more than 2 users.
func TestPresenceLimitConcurrentJoins(t *testing.T) {
	h := testenv.Herald(t)
	const limit, joiners, rounds = 2, 8, 4
	k, s := newApp(t, h, "plimit", map[string]any{"max_presence_members": limit})
	for round := range rounds {
		ch := fmt.Sprintf("presence-limit%d", round)
		first := testenv.MustDialPusher(t, h.URL(), k)
		if e := first.Subscribe(ch, k, s, `{"user_id":"first"}`); e.Event != protocol.EventSubscriptionSucceeded {
			t.Fatalf("first member: %+v", e)
		}
		cs := make([]*testenv.PusherClient, joiners)
		for i := range cs {
			cs[i] = testenv.MustDialPusher(t, h.URL(), k)
		}
		// All subscribes are on the wire before any answer is read: each
		// connection's is handled on its own goroutine, concurrently.
		for i, c := range cs {
			sendSubscribe(c, k, s, ch, fmt.Sprintf(`{"user_id":"u%d"}`, i))
		}
		joined := 0
		for i, c := range cs {
			e := expectSubscribeAnswer(t, c, ch)
			switch {
			case e.Event == protocol.EventSubscriptionSucceeded:
				joined++
			case !strings.Contains(e.Data, `"LimitReached"`) || !strings.Contains(e.Data, `403`):
				t.Fatalf("joiner %d: %+v", i, e)
			}
		}
		var users struct{ Users []struct{ ID string } }
		code, body := testenv.SignedRequest(t, "GET", h.URL(), "/apps/plimit/channels/"+ch+"/users", k, s, nil, nil)
		if err := json.Unmarshal(body, &users); code != http.StatusOK || err != nil {
			t.Fatalf("users = %d %s", code, body)
		}
		if joined != limit-1 || len(users.Users) != limit {
			t.Fatalf("round %d: %d of %d concurrent joiners got in, REST lists %d users; want %d and %d",
				round, joined, joiners, len(users.Users), limit-1, limit)
		}
		for _, c := range append(cs, first) {
			c.WS().Close()
		}
	}
}

// sendSubscribe sends a signed presence subscribe without waiting.
func sendSubscribe(c *testenv.PusherClient, key, secret, ch, channelData string) {
	c.Send(protocol.EventSubscribe, "", map[string]any{
		"channel": ch, "channel_data": channelData,
		"auth": channels.SignAuth(key, secret, channels.ChannelStringToSign(c.SocketID, ch, channelData)),
	})
}

// expectSubscribeAnswer reads until ch's subscription_succeeded or
// subscription_error.
func expectSubscribeAnswer(t *testing.T, c *testenv.PusherClient, ch string) testenv.Event {
	t.Helper()
	for {
		e, err := c.Next()
		if err != nil {
			t.Fatalf("waiting for the answer on %s: %v", ch, err)
		}
		if (e.Event == protocol.EventSubscriptionSucceeded || e.Event == protocol.EventSubscriptionError) && e.Channel == ch {
			return e
		}
	}
}

// TestPresenceSubscribeAgainHasRoster: a repeated subscribe to a joined
// presence channel is answered with the current roster, which pusher-js
// reads (it throws on {}), and joins nothing twice.
func TestPresenceSubscribeAgainHasRoster(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	b := testenv.MustDialPusher(t, h.URL(), key)
	ch := "presence-again"
	a.Subscribe(ch, key, secret, `{"user_id":"alice","user_info":{"name":"Alice"}}`)
	b.Subscribe(ch, key, secret, `{"user_id":"bob"}`)
	a.Expect(protocol.EventMemberAdded, ch)

	e := a.Subscribe(ch, key, secret, `{"user_id":"alice","user_info":{"name":"Alice"}}`)
	var roster struct {
		Presence struct {
			IDs   []string
			Hash  map[string]json.RawMessage
			Count int
		}
	}
	e.DecodeData(t, &roster)
	if e.Event != protocol.EventSubscriptionSucceeded || roster.Presence.Count != 2 ||
		strings.Join(roster.Presence.IDs, ",") != "alice,bob" || string(roster.Presence.Hash["alice"]) != `{"name":"Alice"}` ||
		string(roster.Presence.Hash["bob"]) != "null" {
		t.Fatalf("repeat answer = %+v", e)
	}
	// Nothing joined twice: bob hears of nobody, and one unsubscribe leaves.
	b.ExpectNothing(quiet)
	a.Send(protocol.EventUnsubscribe, "", map[string]any{"channel": ch})
	if removed, _ := b.Expect(protocol.EventMemberRemoved, ch); !strings.Contains(removed.Data, `"alice"`) {
		t.Fatalf("member_removed = %+v", removed)
	}

	// A repeat on a non-presence channel still answers {}.
	a.Subscribe("public-again", key, "", "")
	if e := a.Subscribe("public-again", key, "", ""); e.Data != "{}" {
		t.Fatalf("public repeat = %+v", e)
	}
}

// TestSubscribeWithoutChannel: subscribe or unsubscribe data without a
// channel is the non-fatal pusher:error 4200 (a subscription_error with no
// channel reaches no pusher-js handler); the connection stays open.
func TestSubscribeWithoutChannel(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	for _, frame := range []string{
		`{"event":"pusher:subscribe","data":{}}`,
		`{"event":"pusher:subscribe","data":{"auth":"x"}}`,
		`{"event":"pusher:subscribe","data":{"channel":null}}`,
		`{"event":"pusher:subscribe","data":"{}"}`,
		`{"event":"pusher:subscribe","data":{"channel":123}}`,
		`{"event":"pusher:unsubscribe","data":{}}`,
	} {
		a.SendRaw(frame)
		e, skipped := a.Expect("pusher:error", "")
		if len(skipped) > 0 || !strings.Contains(e.Data, `"code":4200`) {
			t.Fatalf("%s: %+v (after %v)", frame, e, skipped)
		}
	}
	// An empty name is still a channel name, refused on its channel.
	a.SendRaw(`{"event":"pusher:subscribe","data":{"channel":""}}`)
	if e, _ := a.Expect(protocol.EventSubscriptionError, ""); !strings.Contains(e.Data, "InvalidChannel") {
		t.Fatalf("empty channel: %+v", e)
	}
	a.Send("pusher:ping", "", map[string]any{})
	a.Expect("pusher:pong", "")
}

// TestSigninTwice: a second pusher:signin is refused with the non-fatal
// pusher:error 4009; the connection stays signed in as the first user.
func TestSigninTwice(t *testing.T) {
	h := testenv.Herald(t)
	a := testenv.MustDialPusher(t, h.URL(), key)
	a.Signin(key, secret, `{"id":"one"}`)
	two := `{"id":"two"}`
	a.Send(protocol.EventSignin, "", map[string]any{
		"auth":      channels.SignAuth(key, secret, channels.UserStringToSign(a.SocketID, two)),
		"user_data": two,
	})
	if e, _ := a.Expect("pusher:error", ""); !strings.Contains(e.Data, `"code":4009`) || !strings.Contains(e.Data, "already signed in") {
		t.Fatalf("second signin: %+v", e)
	}
	testenv.Trigger(t, h.URL(), appID, key, secret, "hello", "for one", "#server-to-user-one")
	if e, _ := a.Expect("hello", "#server-to-user-one"); e.Data != "for one" {
		t.Fatalf("user event = %+v", e)
	}
}
