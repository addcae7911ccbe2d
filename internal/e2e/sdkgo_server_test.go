package e2e_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/sdk/go/herald"
)

// Herald's own Go SDK (sdk/go/herald), beside pusher-http-go: the server
// client against an in-process Herald, as a tenant's backend uses it.
func TestSDKGoServerClient(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Webhooks = platform.WebhooksConfig{AllowPrivate: true, PollInterval: 20 * time.Millisecond}
	})
	client, err := herald.New(herald.Config{AppID: appID, Key: key, Secret: secret, BaseURL: h.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	a := testenv.MustDialPusher(t, h.URL(), key)
	mustSucceed(t, a.Subscribe("sdkgo-news", key, "", ""))
	const room = "presence-sdkgo-room"
	body, err := client.AuthorizeChannel(a.SocketID, room, &herald.PresenceMember{UserID: "ann", UserInfo: map[string]string{"name": "Ann"}})
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, subscribeAs(t, a, room, authDecoder(t)(body, nil)))

	t.Run("Trigger reaches a Pusher client", func(t *testing.T) {
		res, err := client.Trigger(ctx, []string{"sdkgo-news"}, "headline", map[string]string{"title": "hi"},
			herald.WithIdempotencyKey("headline-1"), herald.WithInfo(herald.InfoSubscriptionCount))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := a.Expect("headline", "sdkgo-news")
		if e.Data != `{"title":"hi"}` || e.Serial != res.Serials["sdkgo-news"] || res.Channels["sdkgo-news"].SubscriptionCount != 1 {
			t.Fatalf("received %+v, publish answered %+v", e, res)
		}
	})

	t.Run("channel queries", func(t *testing.T) {
		rooms, err := client.Channels(ctx, "presence-", herald.InfoUserCount)
		if err != nil || rooms[room].UserCount != 1 {
			t.Fatalf("Channels = %+v, %v", rooms, err)
		}
		ch, err := client.Channel(ctx, room, herald.InfoUserCount, herald.InfoSubscriptionCount)
		if err != nil || !ch.Occupied || ch.UserCount != 1 || ch.SubscriptionCount != 1 {
			t.Fatalf("Channel = %+v, %v", ch, err)
		}
		users, err := client.ChannelUsers(ctx, room)
		if err != nil || len(users) != 1 || users[0] != "ann" {
			t.Fatalf("ChannelUsers = %v, %v", users, err)
		}
	})

	t.Run("history", func(t *testing.T) {
		var want []uint64
		for i := range 5 {
			res, err := client.Trigger(ctx, []string{"sdkgo-log"}, "line", i)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, res.Serials["sdkgo-log"])
		}
		var got []uint64
		for m, err := range client.History(ctx, "sdkgo-log", herald.HistoryOptions{PageSize: 2, Direction: herald.Forwards}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Serial)
		}
		if len(got) != len(want) || got[0] != want[0] || got[4] != want[4] {
			t.Fatalf("history serials %v, published %v", got, want)
		}
	})

	t.Run("webhook verified", func(t *testing.T) {
		var mu sync.Mutex
		var events []herald.WebhookEvent
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			evs, err := client.VerifyWebhook(r)
			if err != nil {
				t.Errorf("webhook refused: %v", err)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			events = append(events, evs...)
			mu.Unlock()
		}))
		t.Cleanup(receiver.Close)
		if code := h.Admin(t, "POST", "/admin/v1/apps/"+appID+"/webhooks",
			map[string]any{"url": receiver.URL, "events": []string{herald.WebhookChannelOccupied}}, nil); code != http.StatusCreated {
			t.Fatalf("create webhook = %d", code)
		}
		// The endpoint's kinds reach the gateway's app config within a
		// second: occupy new channels until one's occupancy is reported.
		n := 0
		testinfra.WaitUntil(t, "a channel_occupied webhook", func() bool {
			n++
			c := testenv.MustDialPusher(t, h.URL(), key)
			mustSucceed(t, c.Subscribe("sdkgo-hooked-"+strconv.Itoa(n), key, "", ""))
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				if e.Name == herald.WebhookChannelOccupied && e.DeliveryID != "" {
					return true
				}
			}
			return false
		})
	})
}
