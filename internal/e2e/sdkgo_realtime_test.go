package e2e_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/sdk/go/realtime"
)

// Herald's own realtime client (sdk/go/realtime) beside the Pusher
// judges: pusher-http-go signs its channels and publishes (encrypted
// payloads included) and raw Pusher clients share its channels.
func TestSDKGoRealtimeClient(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	sdk := sdkClient(t, h.URL(), appID, key, secret)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := realtime.Dial(ctx, realtime.Config{
		URL: h.URL(),
		Key: key,
		// A tenant's auth endpoint made by pusher-http-go.
		Authorizer: func(_ context.Context, socketID, channel string) (realtime.AuthResponse, error) {
			params := []byte("socket_id=" + url.QueryEscape(socketID) + "&channel_name=" + url.QueryEscape(channel))
			var body []byte
			var err error
			if strings.HasPrefix(channel, "presence-") {
				body, err = sdk.AuthorizePresenceChannel(params, pusher.MemberData{UserID: "gopher", UserInfo: map[string]string{"name": "Go"}})
			} else {
				body, err = sdk.AuthorizePrivateChannel(params)
			}
			var a realtime.AuthResponse
			if err == nil {
				err = json.Unmarshal(body, &a)
			}
			return a, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	next := func(t *testing.T, s *realtime.Subscription) realtime.Message {
		t.Helper()
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("%s ended: %v", s.Name(), s.Err())
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing on %s", s.Name())
			return realtime.Message{}
		}
	}

	t.Run("pusher-http-go publishes, realtime receives", func(t *testing.T) {
		s, err := c.Subscribe(ctx, "sdkgo-rt-news", realtime.SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sdk.Trigger("sdkgo-rt-news", "headline", map[string]string{"title": "hi"}); err != nil {
			t.Fatal(err)
		}
		if m := next(t, s); m.Event != "headline" || string(m.Data) != `{"title":"hi"}` || m.Serial == 0 {
			t.Fatalf("received %+v", m)
		}
	})

	t.Run("pusher-http-go encrypts, realtime decrypts", func(t *testing.T) {
		const ch = "private-encrypted-sdkgo-rt"
		s, err := c.Subscribe(ctx, ch, realtime.SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sdk.Trigger(ch, "secret", map[string]int{"pin": 1234}); err != nil {
			t.Fatal(err)
		}
		if m := next(t, s); string(m.Data) != `{"pin":1234}` {
			t.Fatalf("decrypted %q", m.Data)
		}
	})

	t.Run("a Pusher client and realtime share a private channel", func(t *testing.T) {
		const ch = "private-sdkgo-rt-room"
		s, err := c.Subscribe(ctx, ch, realtime.SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := testenv.MustDialPusher(t, h.URL(), key)
		mustSucceed(t, p.Subscribe(ch, key, secret, ""))
		serial, err := s.Publish(ctx, "note", map[string]string{"text": "acked"})
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := p.Expect("note", ch); e.Serial != serial || e.Data != `{"text":"acked"}` {
			t.Fatalf("the Pusher client got %+v, publish acked serial %d", e, serial)
		}
		if err := s.Trigger(ctx, "client-wave", map[string]bool{"hi": true}); err != nil {
			t.Fatal(err)
		}
		p.Expect("client-wave", ch)
		p.Send("client-reply", ch, map[string]string{"back": "hi"})
		if m := next(t, s); m.Event != "client-reply" || string(m.Data) != `{"back":"hi"}` {
			t.Fatalf("realtime got %+v", m)
		}
	})

	t.Run("presence with a Pusher client", func(t *testing.T) {
		const ch = "presence-sdkgo-rt"
		s, err := c.Subscribe(ctx, ch, realtime.SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if me, ok := s.Me(); !ok || me.ID != "gopher" {
			t.Fatalf("me = %+v", me)
		}
		p := testenv.MustDialPusher(t, h.URL(), key)
		mustSucceed(t, p.Subscribe(ch, key, secret, `{"user_id":"ann"}`))
		if m := next(t, s); m.Event != realtime.EventMemberAdded || m.Member.ID != "ann" {
			t.Fatalf("realtime got %+v", m)
		}
	})
}
