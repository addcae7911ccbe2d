package e2e_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	pusher "github.com/pusher/pusher-http-go/v5"
	"golang.org/x/crypto/nacl/secretbox"

	"github.com/heraldhq/herald/internal/testenv"
)

// The Go server SDK, unmodified: github.com/pusher/pusher-http-go/v5 at
// v5.1.1, as a tenant's backend uses it. (v5.1.1 has no
// TerminateUserConnections; that call is a raw signed request.)

// sdkClient is a pusher-http-go client for an app of the Herald at baseURL.
func sdkClient(t *testing.T, baseURL, app, appKey, appSecret string) *pusher.Client {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	return &pusher.Client{
		AppID: app, Key: appKey, Secret: appSecret, Host: u.Host, Secure: false,
		EncryptionMasterKeyBase64: base64.StdEncoding.EncodeToString(mk),
	}
}

// sdkAuth is what a tenant's auth endpoint answers, as the SDK makes it.
type sdkAuth struct {
	Auth         string `json:"auth"`
	ChannelData  string `json:"channel_data"`
	UserData     string `json:"user_data"`
	SharedSecret string `json:"shared_secret"`
}

// authDecoder returns a function that decodes an SDK auth answer, so that
// it can wrap the SDK call directly: decode(sdk.AuthorizePrivateChannel(…)).
func authDecoder(t *testing.T) func(b []byte, err error) sdkAuth {
	return func(b []byte, err error) sdkAuth {
		t.Helper()
		if err != nil {
			t.Fatalf("sdk auth: %v", err)
		}
		var a sdkAuth
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("sdk auth %s: %v", b, err)
		}
		return a
	}
}

// subscribeAs subscribes with an auth the SDK made and returns the
// subscription result.
func subscribeAs(t *testing.T, p *testenv.PusherClient, channel string, a sdkAuth) testenv.Event {
	t.Helper()
	data := map[string]any{"channel": channel, "auth": a.Auth}
	if a.ChannelData != "" {
		data["channel_data"] = a.ChannelData
	}
	p.Send("pusher:subscribe", "", data)
	for {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("subscribe %s: %v", channel, err)
		}
		if (e.Event == "pusher_internal:subscription_succeeded" || e.Event == "pusher:subscription_error") && e.Channel == channel {
			return e
		}
	}
}

func mustSucceed(t *testing.T, e testenv.Event) {
	t.Helper()
	if e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscription refused: %+v", e)
	}
}

// presenceJoin subscribes p to a presence channel as userID, with an
// auth made by the SDK.
func presenceJoin(t *testing.T, sdk *pusher.Client, p *testenv.PusherClient, channel, userID string) {
	t.Helper()
	a := authDecoder(t)(sdk.AuthorizePresenceChannel([]byte("channel_name="+channel+"&socket_id="+p.SocketID),
		pusher.MemberData{UserID: userID, UserInfo: map[string]string{"name": strings.ToUpper(userID)}}))
	mustSucceed(t, subscribeAs(t, p, channel, a))
}

// signinAs signs p in as userID with an auth made by the SDK.
func signinAs(t *testing.T, sdk *pusher.Client, p *testenv.PusherClient, userID string) {
	t.Helper()
	a := authDecoder(t)(sdk.AuthenticateUser([]byte("socket_id="+p.SocketID), map[string]any{"id": userID}))
	p.Send("pusher:signin", "", map[string]any{"auth": a.Auth, "user_data": a.UserData})
	p.Expect("pusher:signin_success", "")
}

// alive fails unless p's connection still answers a ping.
func alive(t *testing.T, p *testenv.PusherClient) {
	t.Helper()
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")
}

func ptr[T any](v T) *T { return &v }

func TestPusherHTTPGoSDK(t *testing.T) {
	h := testenv.Herald(t)
	sdk := sdkClient(t, h.URL(), appID, key, secret)

	// One public channel with two subscribers, one presence channel with
	// three connections of two users.
	a := testenv.MustDialPusher(t, h.URL(), key)
	b := testenv.MustDialPusher(t, h.URL(), key)
	for _, p := range []*testenv.PusherClient{a, b} {
		mustSucceed(t, p.Subscribe("sdk-news", key, "", ""))
		mustSucceed(t, p.Subscribe("sdk-sports", key, "", ""))
	}
	const room = "presence-sdk-room"
	presenceJoin(t, sdk, a, room, "ann")
	presenceJoin(t, sdk, b, room, "bob")
	a.Expect("pusher_internal:member_added", room)
	c := testenv.MustDialPusher(t, h.URL(), key)
	presenceJoin(t, sdk, c, room, "bob")

	t.Run("Trigger and TriggerMulti", func(t *testing.T) {
		if err := sdk.Trigger("sdk-news", "headline", map[string]string{"title": "hi"}); err != nil {
			t.Fatal(err)
		}
		if e, _ := a.Expect("headline", "sdk-news"); e.Data != `{"title":"hi"}` {
			t.Fatalf("data = %q", e.Data)
		}
		if err := sdk.TriggerMulti([]string{"sdk-news", "sdk-sports"}, "both", "x"); err != nil {
			t.Fatal(err)
		}
		// The two channels are not ordered with each other.
		for got := map[string]bool{}; !got["sdk-news"] || !got["sdk-sports"]; {
			e, _ := b.Expect("both", "")
			if e.Data != "x" {
				t.Fatalf("%s data = %q", e.Channel, e.Data)
			}
			got[e.Channel] = true
		}
	})

	t.Run("socket exclusion", func(t *testing.T) {
		// Deprecated in the SDK, and still what many backends call.
		//lint:ignore SA1019 the deprecated call is part of what must work
		if err := sdk.TriggerExclusive("sdk-news", "not-for-a", "1", a.SocketID); err != nil {
			t.Fatal(err)
		}
		if _, err := sdk.TriggerMultiWithParams([]string{"sdk-news", "sdk-sports"}, "not-for-a-either", "2",
			pusher.TriggerParams{SocketID: ptr(a.SocketID)}); err != nil {
			t.Fatal(err)
		}
		// b is excluded from nothing. The two channels are not ordered with
		// each other: not-for-a-either on sdk-sports may come before
		// not-for-a on sdk-news.
		awaitAll(t, b, "not-for-a@sdk-news", "not-for-a-either@sdk-news", "not-for-a-either@sdk-sports")
		// Each channel is ordered: a later event on both comes after
		// anything a would have got.
		if err := sdk.TriggerMulti([]string{"sdk-news", "sdk-sports"}, "for-all", "3"); err != nil {
			t.Fatal(err)
		}
		// The two channels are not ordered with each other: read until both
		// have delivered for-all.
		var seen []testenv.Event
		for got := map[string]bool{}; !got["sdk-news"] || !got["sdk-sports"]; {
			e, skipped := a.Expect("for-all", "")
			seen = append(seen, skipped...)
			got[e.Channel] = true
		}
		if slices.ContainsFunc(seen, func(e testenv.Event) bool { return strings.HasPrefix(e.Event, "not-for-a") }) {
			t.Fatal("the excluded socket got an event")
		}
	})

	t.Run("TriggerWithParams info", func(t *testing.T) {
		got, err := sdk.TriggerMultiWithParams([]string{room, "sdk-news", "sdk-nobody"}, "counted", "3",
			pusher.TriggerParams{Info: ptr("user_count,subscription_count")})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]int{room: {2, 3}, "sdk-news": {-1, 2}, "sdk-nobody": {-1, 0}}
		checkTriggerInfo(t, got.Channels, want)
	})

	t.Run("TriggerBatch", func(t *testing.T) {
		got, err := sdk.TriggerBatch([]pusher.Event{
			{Channel: "sdk-news", Name: "b1", Data: "one", Info: ptr("subscription_count")},
			{Channel: room, Name: "b2", Data: map[string]int{"n": 2}, Info: ptr("user_count,subscription_count")},
			{Channel: "sdk-sports", Name: "b3", Data: "three", SocketID: ptr(a.SocketID)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Batch) != 3 {
			t.Fatalf("batch answer has %d items", len(got.Batch))
		}
		if s := got.Batch[0].SubscriptionCount; s == nil || *s != 2 || got.Batch[0].UserCount != nil {
			t.Fatalf("item 0 = %+v", got.Batch[0])
		}
		if u, s := got.Batch[1].UserCount, got.Batch[1].SubscriptionCount; u == nil || *u != 2 || s == nil || *s != 3 {
			t.Fatalf("item 1 = %+v", got.Batch[1])
		}
		if got.Batch[2].UserCount != nil || got.Batch[2].SubscriptionCount != nil {
			t.Fatalf("item 2 without info = %+v", got.Batch[2])
		}
		a.Expect("b1", "sdk-news")
		if e, _ := c.Expect("b2", room); e.Data != `{"n":2}` {
			t.Fatalf("b2 data = %q", e.Data)
		}
		b.Expect("b3", "sdk-sports")
	})

	t.Run("Channels", func(t *testing.T) {
		all, err := sdk.Channels(pusher.ChannelsParams{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range []string{"sdk-news", "sdk-sports", room} {
			if _, ok := all.Channels[ch]; !ok {
				t.Fatalf("%s missing from %v", ch, all.Channels)
			}
		}
		presence, err := sdk.Channels(pusher.ChannelsParams{FilterByPrefix: ptr("presence-"), Info: ptr("user_count")})
		if err != nil {
			t.Fatal(err)
		}
		if len(presence.Channels) != 1 || presence.Channels[room].UserCount != 2 {
			t.Fatalf("presence channels = %+v", presence.Channels)
		}
		none, err := sdk.Channels(pusher.ChannelsParams{FilterByPrefix: ptr("private-nothing-")})
		if err != nil || none.Channels == nil || len(none.Channels) != 0 {
			t.Fatalf("no channels = %+v, %v", none, err)
		}
		if _, err := sdk.Channels(pusher.ChannelsParams{Info: ptr("user_count")}); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("user_count without the presence- prefix: %v", err)
		}
	})

	t.Run("Channel", func(t *testing.T) {
		got, err := sdk.Channel(room, pusher.ChannelParams{Info: ptr("user_count,subscription_count")})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Occupied || got.UserCount != 2 || got.SubscriptionCount != 3 {
			t.Fatalf("channel = %+v", got)
		}
		empty, err := sdk.Channel("sdk-empty", pusher.ChannelParams{})
		if err != nil || empty.Occupied {
			t.Fatalf("empty channel = %+v, %v", empty, err)
		}
		if _, err := sdk.Channel("sdk-news", pusher.ChannelParams{Info: ptr("user_count")}); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("user_count on a public channel: %v", err)
		}
	})

	t.Run("GetChannelUsers", func(t *testing.T) {
		got, err := sdk.GetChannelUsers(room)
		if err != nil {
			t.Fatal(err)
		}
		if want := []pusher.User{{ID: "ann"}, {ID: "bob"}}; !slices.Equal(got.List, want) {
			t.Fatalf("users = %+v", got.List)
		}
		if _, err := sdk.GetChannelUsers("sdk-news"); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("users of a public channel: %v", err)
		}
	})

	t.Run("private channel auth, encryption", func(t *testing.T) {
		const private, encrypted = "private-sdk", "private-encrypted-sdk"
		decode := authDecoder(t)
		p := testenv.MustDialPusher(t, h.URL(), key)
		mustSucceed(t, subscribeAs(t, p, private, decode(sdk.AuthorizePrivateChannel([]byte("channel_name="+private+"&socket_id="+p.SocketID)))))
		enc := decode(sdk.AuthorizePrivateChannel([]byte("channel_name=" + encrypted + "&socket_id=" + p.SocketID)))
		mustSucceed(t, subscribeAs(t, p, encrypted, enc))
		// Another socket's signature is refused.
		if e := subscribeAs(t, b, private, decode(sdk.AuthorizePrivateChannel([]byte("channel_name="+private+"&socket_id="+p.SocketID)))); e.Event != "pusher:subscription_error" {
			t.Fatalf("a signature for another socket was accepted: %+v", e)
		}

		if err := sdk.Trigger(encrypted, "secret", map[string]string{"pin": "1234"}); err != nil {
			t.Fatal(err)
		}
		e, _ := p.Expect("secret", encrypted)
		if strings.Contains(e.Data, "1234") {
			t.Fatalf("the server saw the plaintext: %s", e.Data)
		}
		if got := decrypt(t, enc.SharedSecret, e.Data); got != `{"pin":"1234"}` {
			t.Fatalf("decrypted %q", got)
		}
	})

	t.Run("AuthenticateUser, SendToUser, terminate", func(t *testing.T) {
		u1 := testenv.MustDialPusher(t, h.URL(), key)
		u2 := testenv.MustDialPusher(t, h.URL(), key)
		other := testenv.MustDialPusher(t, h.URL(), key)
		signinAs(t, sdk, u1, "sdk-user")
		signinAs(t, sdk, u2, "sdk-user")
		signinAs(t, sdk, other, "someone-else")
		for _, p := range []*testenv.PusherClient{u1, u2} {
			mustSucceed(t, p.Subscribe("#server-to-user-sdk-user", key, "", ""))
		}
		mustSucceed(t, other.Subscribe("#server-to-user-someone-else", key, "", ""))

		if err := sdk.SendToUser("sdk-user", "notice", "just you"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*testenv.PusherClient{u1, u2} {
			if e, _ := p.Expect("notice", "#server-to-user-sdk-user"); e.Data != "just you" {
				t.Fatalf("user event = %+v", e)
			}
		}
		if err := sdk.SendToUser("someone-else", "notice", "yours"); err != nil {
			t.Fatal(err)
		}
		if e, skipped := other.Expect("notice", ""); e.Data != "yours" || len(skipped) > 0 {
			t.Fatalf("the other user got %+v after %+v", e, skipped)
		}

		code, body := testenv.SignedRequest(t, "POST", h.URL(), "/apps/"+appID+"/users/sdk-user/terminate_connections", key, secret, nil, []byte(`{}`))
		if code != 200 || string(body) != "{}\n" && string(body) != "{}" {
			t.Fatalf("terminate = %d %s", code, body)
		}
		for _, p := range []*testenv.PusherClient{u1, u2} {
			if code := p.ExpectClose(); code != 4009 {
				t.Fatalf("terminated connection closed with %d", code)
			}
		}
		alive(t, other)
	})
}

// checkTriggerInfo compares a trigger's info answer with want: per
// channel {user_count, subscription_count}, -1 for absent.
func checkTriggerInfo(t *testing.T, got map[string]pusher.TriggerChannelListItem, want map[string][2]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("info for %d channels, want %d: %+v", len(got), len(want), got)
	}
	val := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	for ch, w := range want {
		g, ok := got[ch]
		if !ok || val(g.UserCount) != w[0] || val(g.SubscriptionCount) != w[1] {
			t.Fatalf("%s: user_count %d, subscription_count %d; want %v", ch, val(g.UserCount), val(g.SubscriptionCount), w)
		}
	}
}

// decrypt opens an end-to-end encrypted event's data with the channel's
// shared secret, as pusher-js does.
func decrypt(t *testing.T, sharedSecretB64, data string) string {
	t.Helper()
	var box struct{ Nonce, Ciphertext string }
	if err := json.Unmarshal([]byte(data), &box); err != nil {
		t.Fatalf("encrypted data %q: %v", data, err)
	}
	secret, err1 := base64.StdEncoding.DecodeString(sharedSecretB64)
	nonce, err2 := base64.StdEncoding.DecodeString(box.Nonce)
	ct, err3 := base64.StdEncoding.DecodeString(box.Ciphertext)
	if err1 != nil || err2 != nil || err3 != nil || len(secret) != 32 || len(nonce) != 24 {
		t.Fatalf("malformed encrypted data %q", data)
	}
	var k [32]byte
	var n [24]byte
	copy(k[:], secret)
	copy(n[:], nonce)
	pt, ok := secretbox.Open(nil, ct, &n, &k)
	if !ok {
		t.Fatal("cannot decrypt with the shared secret")
	}
	return string(pt)
}
