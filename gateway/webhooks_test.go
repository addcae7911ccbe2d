package gateway

import (
	"slices"
	"testing"

	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
)

// markRecorder is a WebhookReporter that remembers what was marked.
type markRecorder struct{ marked []webhookstate.ChannelRef }

func (m *markRecorder) Mark(ref webhookstate.ChannelRef) { m.marked = append(m.marked, ref) }

// WebhookSnapshot reports completed subscriptions only, presence users
// once each and sorted when member events are wanted, the subscription
// count when subscription_count is, and nothing for an app that wants no
// channel kind; the hook marks only such apps' channels.
func TestWebhookSnapshot(t *testing.T) {
	members := []channels.WebhookEventName{channels.WebhookMemberAdded}
	cases := []struct {
		name    string
		kinds   []channels.WebhookEventName
		channel string
		want    webhookstate.Value
		keep    bool
	}{
		{"no webhooks", nil, "presence-r", webhookstate.Value{}, false},
		{"only client events", []channels.WebhookEventName{channels.WebhookClientEvent}, "chat", webhookstate.Value{}, false},
		{"occupancy", []channels.WebhookEventName{channels.WebhookChannelVacated}, "presence-r", webhookstate.Value{Subscriptions: 1}, true},
		{"members", members, "presence-r", webhookstate.Value{Subscriptions: 1, Users: []string{"ann", "ben"}}, true},
		{"members of a public channel", members, "chat", webhookstate.Value{Subscriptions: 1}, true},
		{"count", []channels.WebhookEventName{channels.WebhookSubscriptionCount}, "chat", webhookstate.Value{Subscriptions: 3}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := benchGateway(t)
			rec := &markRecorder{}
			g.cfg.WebhookState = rec
			g.cfg.Apps = benchApps{benchApp: &channels.AppConfig{ID: benchApp, WebhookEvents: tc.kinds}}
			ch, err := channels.ParseChannel(tc.channel)
			if err != nil {
				t.Fatal(err)
			}
			k := chanKey{app: benchApp, name: ch.Name}
			// Three completed subscriptions (ben twice), and one still
			// joining (a presence subscribe that may yet be refused).
			for i, user := range []string{"ben", "ann", "ben", "cid"} {
				c := &conn{gw: g, socketID: g.newSocketID(), appID: benchApp}
				sub := &subscription{ch: ch, presence: ch.Kind == channels.KindPresence, userID: user}
				cs, first := g.hub.join(k, ch, c, sub)
				if first {
					close(cs.ready)
				}
				if i < 3 {
					c.addSubscription(sub)
				}
			}
			got, keep := g.WebhookSnapshot(webhookstate.ChannelRef{AppID: benchApp, Channel: ch.Name})
			if keep != tc.keep || got.Subscriptions != tc.want.Subscriptions || !slices.Equal(got.Users, tc.want.Users) {
				t.Fatalf("snapshot = %+v, %v; want %+v, %v", got, keep, tc.want, tc.keep)
			}
			if marked := len(rec.marked) > 0; marked != tc.keep {
				t.Fatalf("marked %d times; want marks: %v", len(rec.marked), tc.keep)
			}
		})
	}
}
