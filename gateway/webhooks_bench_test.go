package gateway

import (
	"testing"

	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

// benchApps is an AppSource of fixed configs.
type benchApps map[string]*channels.AppConfig

func (a benchApps) App(id string) (*channels.AppConfig, bool) { c, ok := a[id]; return c, ok }
func (a benchApps) ByKey(string) (*channels.AppConfig, bool)  { return nil, false }

// BenchmarkSubscribeChannelState measures what webhooks add to the
// subscribe path: one operation is a connection joining a channel as its
// first local subscriber and leaving it as the last, in the hub, with the
// webhook hook of each (webhookChannelChanged), without the NATS
// subscription that a real first subscriber also makes. "off" is the
// path before webhooks (no reporter: the hook returns at once); "none" an
// app whose endpoints want no channel kind (a config lookup); "occupancy"
// an app that wants channel_occupied, whose hook marks the channel for
// the reporter (which then writes the bucket off the subscribe path).
func BenchmarkSubscribeChannelState(b *testing.B) {
	js := testinfra.JetStream(b, testinfra.NATSConn(b, testinfra.NATS(b)))
	cases := []struct {
		name   string
		report bool
		kinds  []channels.WebhookEventName
	}{
		{"webhooks=off", false, nil},
		{"webhooks=none", true, nil},
		{"webhooks=occupancy", true, []channels.WebhookEventName{channels.WebhookChannelOccupied}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			g := benchGateway(b)
			g.cfg.Apps = benchApps{benchApp: &channels.AppConfig{ID: benchApp, WebhookEvents: tc.kinds}}
			if tc.report {
				r, err := webhookstate.NewReporter(webhookstate.ReporterConfig{
					JS: js, GatewayID: "gw-bench", Snapshot: g.WebhookSnapshot,
				})
				if err != nil {
					b.Fatal(err)
				}
				g.cfg.WebhookState = r
			}
			ch, err := channels.ParseChannel("bench-subscribe")
			if err != nil {
				b.Fatal(err)
			}
			c := &conn{gw: g, socketID: g.newSocketID(), appID: benchApp}
			k := chanKey{app: benchApp, name: ch.Name}
			b.ReportAllocs()
			for b.Loop() {
				cs, _ := g.hub.join(k, ch, c, nil)
				close(cs.ready)
				g.webhookChannelChanged(benchApp, ch)
				g.hub.leave(k, c)
				g.webhookChannelChanged(benchApp, ch)
			}
		})
	}
}
