package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

// signinRaw sends pusher:signin for userData, signed, without waiting.
func signinRaw(p *testenv.PusherClient, userData string) {
	p.Send("pusher:signin", "", map[string]any{
		"auth":      channels.SignAuth(key, secret, channels.UserStringToSign(p.SocketID, userData)),
		"user_data": userData,
	})
}

// A numeric id signs in as the user of its decimal string, and the
// connection gets what is sent to that user from signin_success on,
// before (and without) its own subscribe to the user channel.
func TestSigninNumericIDAndUserChannelFromSignin(t *testing.T) {
	h := testenv.Herald(t)
	for _, tc := range []struct{ name, userData, channel string }{
		{"number", `{"id":1,"name":"Ann"}`, "#server-to-user-1"},
		{"string", `{"id":"1","name":"Ann"}`, "#server-to-user-1"},
		{"negative", `{"id":-5}`, "#server-to-user--5"},
		{"beyond 2^64", `{"id":123456789012345678901234567890}`, "#server-to-user-123456789012345678901234567890"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testenv.MustDialPusher(t, h.URL(), key)
			signinRaw(p, tc.userData)
			ok, _ := p.Expect("pusher:signin_success", "")
			var data struct {
				UserData string `json:"user_data"`
			}
			ok.DecodeData(t, &data)
			if data.UserData != tc.userData {
				t.Fatalf("signin_success user_data = %q, want it as signed: %q", data.UserData, tc.userData)
			}
			// No subscribe yet: the sign-in joined the user channel.
			testenv.Trigger(t, h.URL(), appID, key, secret, "hello", "early", tc.channel)
			if e, skipped := p.Expect("hello", tc.channel); e.Data != "early" || len(skipped) != 0 {
				t.Fatalf("early user event = %+v after %v", e, skipped)
			}
			// The client's own subscribe only confirms; nothing is doubled.
			if e := p.Subscribe(tc.channel, key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
				t.Fatalf("own user channel: %+v", e)
			}
			testenv.Trigger(t, h.URL(), appID, key, secret, "hello", "second", tc.channel)
			testenv.Trigger(t, h.URL(), appID, key, secret, "hello", "third", tc.channel)
			for _, want := range []string{"second", "third"} {
				if e, skipped := p.Expect("hello", tc.channel); e.Data != want || len(skipped) != 0 {
					t.Fatalf("user event = %+v after %v, want %q once", e, skipped, want)
				}
			}
			// Unsubscribing stops delivery, as on any channel.
			p.Send("pusher:unsubscribe", "", map[string]any{"channel": tc.channel})
			p.Send("pusher:ping", "", map[string]any{})
			p.Expect("pusher:pong", "")
			testenv.Trigger(t, h.URL(), appID, key, secret, "hello", "after unsubscribe", tc.channel)
			p.ExpectNothing(quiet)
		})
	}
}

// {"id":1} and {"id":"1"} are one user: for watchlists and terminate too.
func TestSigninNumericIDWatchlistAndTerminate(t *testing.T) {
	h := testenv.Herald(t)
	watcher := testenv.MustDialPusher(t, h.URL(), key)
	watcher.Signin(key, secret, `{"id":"me","watchlist":[7,"7",8]}`)
	seven := testenv.MustDialPusher(t, h.URL(), key)
	seven.Signin(key, secret, `{"id":7}`)
	if e, _ := watcher.Expect("pusher_internal:watchlist_events", ""); e.Data != `{"events":[{"name":"online","user_ids":["7"]}]}` {
		t.Fatalf("online event = %s", e.Data)
	}
	sevenAgain := testenv.MustDialPusher(t, h.URL(), key)
	sevenAgain.Signin(key, secret, `{"id":"7"}`)
	watcher.ExpectNothing(quiet) // the same user, already online

	status, body := testenv.SignedRequest(t, "POST", h.URL(), "/apps/"+appID+"/users/7/terminate_connections", key, secret, nil, []byte(`{}`))
	if status != 200 {
		t.Fatalf("terminate = %d %s", status, body)
	}
	for _, p := range []*testenv.PusherClient{seven, sevenAgain} {
		if code := p.ExpectClose(); code != 4009 {
			t.Fatalf("terminated connection closed with %d", code)
		}
	}
	if e, _ := watcher.Expect("pusher_internal:watchlist_events", ""); !strings.Contains(e.Data, `"offline","user_ids":["7"]`) {
		t.Fatalf("offline event = %s", e.Data)
	}
}

// An id that is neither a non-empty string nor an integer is a bad
// sign-in: 4009, then the connection is closed.
func TestSigninRefusesBadIDs(t *testing.T) {
	h := testenv.Herald(t)
	for _, userData := range []string{
		`{"id":1.5}`, `{"id":1.0}`, `{"id":1e3}`, `{"id":true}`, `{"id":null}`, `{"id":{}}`, `{"id":[1]}`,
		`{"id":""}`, `{}`, `{"id":"` + strings.Repeat("x", channels.MaxUserIDLen+1) + `"}`,
		`{"id":1,"watchlist":[1.5]}`, `{"id":1,"watchlist":[{}]}`, `{"id":1,"watchlist":"7"}`, `[1]`,
	} {
		t.Run(userData, func(t *testing.T) {
			p := testenv.MustDialPusher(t, h.URL(), key)
			signinRaw(p, userData)
			e, _ := p.Expect("pusher:error", "")
			var pe struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			e.DecodeData(t, &pe)
			if pe.Code != 4009 || !strings.Contains(pe.Message, "user_data") {
				t.Fatalf("bad sign-in answered %+v", pe)
			}
			if code := p.ExpectClose(); code != 4009 {
				t.Fatalf("closed with %d", code)
			}
		})
	}
}

// Presence reads a numeric user_id as sign-in does.
func TestPresenceUserIDRules(t *testing.T) {
	h := testenv.Herald(t)
	for _, tc := range []struct {
		userID string // the JSON value
		want   string // the member id, or "" for a refusal
	}{
		{`1`, "1"}, {`"1"`, "1"}, {`-0`, "0"},
		{`1.5`, ""}, {`1e3`, ""}, {`true`, ""}, {`null`, ""}, {`{}`, ""}, {`""`, ""},
	} {
		t.Run(tc.userID, func(t *testing.T) {
			p := testenv.MustDialPusher(t, h.URL(), key)
			ch := "presence-ids-" + strings.NewReplacer(`"`, "q", ".", "d", "{", "o", "}", "c").Replace(tc.userID)
			e := p.Subscribe(ch, key, secret, `{"user_id":`+tc.userID+`}`)
			if tc.want == "" {
				if e.Event != "pusher:subscription_error" || !strings.Contains(e.Data, "user_id") || !strings.Contains(e.Data, "400") {
					t.Fatalf("user_id %s: %+v", tc.userID, e)
				}
				return
			}
			var data struct {
				Presence struct {
					IDs []string `json:"ids"`
				} `json:"presence"`
			}
			if e.Event != "pusher_internal:subscription_succeeded" {
				t.Fatalf("user_id %s: %+v", tc.userID, e)
			}
			if err := json.Unmarshal([]byte(e.Data), &data); err != nil || len(data.Presence.IDs) != 1 || data.Presence.IDs[0] != tc.want {
				t.Fatalf("roster %s: %v", e.Data, err)
			}
		})
	}
}
