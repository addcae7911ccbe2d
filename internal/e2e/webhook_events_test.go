package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Webhook timings of these tests: the leave delay shortened from 3 s.
const (
	webhookLeaveDelay = time.Second
	webhookSettle     = 200 * time.Millisecond
	// webhookQuiet is how long a test waits to be sure no further event
	// comes: a leave delay and its settling, with room to spare.
	webhookQuiet = 3 * time.Second
	// webhookDeadline bounds waiting for an event, a dead gateway's
	// included (registry TTL, sweep, leave delay).
	webhookDeadline = 30 * time.Second
)

// withWebhookTimings shortens the leave delay and keeps the control
// plane's periodic app config reconcile from overwriting the
// WebhookEvents the tests write into HERALD_APPS (the admin API that sets
// them belongs to the webhook dispatcher).
func withWebhookTimings(c *platform.Config) {
	c.ConfigSyncInterval = time.Hour
	c.WebhookSources = platform.WebhookSourcesConfig{LeaveDelay: webhookLeaveDelay, Settle: webhookSettle, CountInterval: time.Second}
}

// setWebhookEvents writes the kinds an app's endpoints want into its
// HERALD_APPS entry, as the control plane's config sync will once
// endpoints exist.
func setWebhookEvents(t *testing.T, js jetstream.JetStream, appID string, kinds ...channels.WebhookEventName) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), webhookDeadline)
	defer cancel()
	kv, err := js.KeyValue(ctx, appconfig.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := appconfig.Decode(e.Value())
	if err != nil {
		t.Fatal(err)
	}
	cfg.WebhookEvents = kinds
	if err := appconfig.Put(ctx, kv, cfg); err != nil {
		t.Fatal(err)
	}
}

// webhookLog reads an app's events from HERALD_WEBHOOK_EVENTS, as
// "<kind> <channel> [user] [event data]" in stream order, leaving out
// probe channels.
func webhookLog(t *testing.T, js jetstream.JetStream, appID string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), webhookDeadline)
	defer cancel()
	s, err := js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := uint64(1); ; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		env, err := webhookevents.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if env.AppID != appID || strings.HasPrefix(env.Event.Channel, "probe-") {
			continue
		}
		out = append(out, webhookString(env.Event))
	}
}

func webhookString(e channels.WebhookEvent) string {
	s := string(e.Name) + " " + e.Channel
	if e.UserID != "" {
		s += " " + e.UserID
	}
	if e.Event != "" {
		s += " " + e.Event + " " + e.Data
	}
	if e.SubscriptionCount != nil {
		s += fmt.Sprintf(" %d", *e.SubscriptionCount)
	}
	return s
}

// byChannel groups events by channel, each channel's in order: events of
// different channels may interleave.
func byChannel(evs []string) []string {
	by := map[string][]string{}
	var chans []string
	for _, ev := range evs {
		ch := strings.Fields(ev)[1]
		if by[ch] == nil {
			chans = append(chans, ch)
		}
		by[ch] = append(by[ch], ev)
	}
	slices.Sort(chans)
	var out []string
	for _, ch := range chans {
		out = append(out, by[ch]...)
	}
	return out
}

// expectWebhooks waits until the app's events are want (per channel, in
// order), then checks nothing more comes.
func expectWebhooks(t *testing.T, js jetstream.JetStream, appID, what string, want []string) {
	t.Helper()
	var got []string
	testinfra.WaitUntilWithin(t, what, webhookDeadline, func() bool {
		got = webhookLog(t, js, appID)
		return len(got) >= len(want)
	})
	time.Sleep(webhookQuiet)
	got = webhookLog(t, js, appID)
	if !slices.Equal(byChannel(got), byChannel(want)) {
		t.Fatalf("%s: events\n  %s\nwant (per channel, in order)\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// probeWebhooks waits until a channel joined through each gateway makes
// channel_occupied: the control plane and that gateway both know the
// app's WebhookEvents.
func probeWebhooks(t *testing.T, js jetstream.JetStream, appID, key string, gws ...testenv.Node) {
	t.Helper()
	for i, g := range gws {
		ch := fmt.Sprintf("probe-%d", i)
		testinfra.WaitUntilWithin(t, "webhook events of "+ch, webhookDeadline, func() bool {
			p := testenv.MustDialPusher(t, g.URL(), key)
			defer p.WS().Close()
			p.Subscribe(ch, key, "", "")
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) {
				if occupied(t, js, appID, ch) {
					return true
				}
				time.Sleep(100 * time.Millisecond)
			}
			return false
		})
	}
}

func occupied(t *testing.T, js jetstream.JetStream, appID, ch string) bool {
	ctx, cancel := context.WithTimeout(t.Context(), webhookDeadline)
	defer cancel()
	s, err := js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, webhookevents.Subject(appID, ch))
	return err == nil && m != nil
}

// unsubscribe leaves a channel and waits until the gateway has handled it.
func unsubscribe(t *testing.T, p *testenv.PusherClient, ch string) {
	t.Helper()
	p.Send("pusher:unsubscribe", "", map[string]any{"channel": ch})
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")
}

// A scripted sequence of clients joining and leaving on two gateways of a
// 3-node NATS cluster, with two control planes, yields exactly the
// expected webhook events: each real cluster-wide transition once (both
// control planes decide it), none for a gateway's own comings and goings
// while another holds the channel or the user, none for a leave and quick
// return through the other gateway, the channels of a killed gateway
// vacated by the control planes, and a transition after one control plane
// was killed reported by the other.
func TestWebhookEventsAcrossGateways(t *testing.T) {
	cl := newClusterEnv(t, withWebhookTimings)
	testenv.StartHerald(t, cl.cp.Config) // a second control plane: both decide every transition
	g1, g2 := cl.gateway(t, "gw-one"), cl.gateway(t, "gw-two")
	const app = "hooks"
	key, secret := newAppOn(t, cl.cp, []testenv.Node{g1, g2}, app)
	js := testinfra.JetStream(t, cl.nats.Connect(t))
	setWebhookEvents(t, js, app, channels.WebhookChannelOccupied, channels.WebhookChannelVacated,
		channels.WebhookMemberAdded, channels.WebhookMemberRemoved, channels.WebhookClientEvent)
	probeWebhooks(t, js, app, key, g1, g2)

	const lobby, news, solo = "presence-lobby", "news", "private-solo"
	a := testenv.MustDialPusher(t, g1.URL(), key)
	b := testenv.MustDialPusher(t, g2.URL(), key)
	c := testenv.MustDialPusher(t, g2.URL(), key)
	x := testenv.MustDialPusher(t, g1.URL(), key)
	y := testenv.MustDialPusher(t, g2.URL(), key)

	a.Subscribe(lobby, key, secret, `{"user_id":"ann"}`)
	b.Subscribe(lobby, key, secret, `{"user_id":"ben"}`)
	c.Subscribe(lobby, key, secret, `{"user_id":"ann"}`) // ann's second connection, on the other gateway
	x.Subscribe(news, key, secret, "")
	y.Subscribe(news, key, secret, "")
	want := []string{
		"channel_occupied " + lobby, "member_added " + lobby + " ann", "member_added " + lobby + " ben",
		"channel_occupied " + news,
	}
	expectWebhooks(t, js, app, "channels and members joined on both gateways", want)

	// Leaves while another gateway still holds the channel or the user.
	unsubscribe(t, a, lobby) // ann stays through c on gw-two
	unsubscribe(t, x, news)  // news stays through y on gw-two
	expectWebhooks(t, js, app, "partial leaves", want)

	// The last subscriber of news leaves gw-two and the channel comes
	// back through gw-one within the leave delay; so does ann's last
	// connection to the lobby: nothing is sent.
	unsubscribe(t, y, news)
	x.Subscribe(news, key, secret, "")
	unsubscribe(t, c, lobby)
	a.Subscribe(lobby, key, secret, `{"user_id":"ann"}`)
	expectWebhooks(t, js, app, "quick returns through the other gateway", want)

	// ann's last connection leaves; then a client event on the presence
	// channel carries its sender. (A delayed event is published when its
	// delay ends, after what happened meanwhile; its time_ms says when it
	// happened.)
	unsubscribe(t, a, lobby)
	want = append(want, "member_removed "+lobby+" ann")
	expectWebhooks(t, js, app, "ann's last connection left", want)
	b.Send("client-wave", lobby, map[string]any{"hi": 1})
	want = append(want, "client_event "+lobby+` ben client-wave {"hi":1}`)
	expectWebhooks(t, js, app, "a client event", want)

	// gw-two dies holding lobby (ben) and private-solo: the control plane
	// vacates them once its registry entry expires; news stays on gw-one.
	y.Subscribe(solo, key, secret, "")
	want = append(want, "channel_occupied "+solo)
	expectWebhooks(t, js, app, "a channel on the gateway about to die", want)
	g2.Kill()
	want = append(want, "member_removed "+lobby+" ben", "channel_vacated "+lobby, "channel_vacated "+solo)
	expectWebhooks(t, js, app, "the dead gateway's channels vacated", want)

	// One control plane dies; the other reports the survivor's channel
	// leaving for good.
	cl.cp.Kill()
	unsubscribe(t, x, news)
	want = append(want, "channel_vacated "+news)
	expectWebhooks(t, js, app, "the last channel vacated", want)
}

// On one node: cache_miss, client_event on a private channel (with its
// sender's socket id, without user_id; also for herald:publish, once per
// id), subscription_count (at most
// every interval, never on presence channels), and an app whose endpoints
// want nothing writes no webhook state and makes no event.
func TestWebhookEventsOfOneGateway(t *testing.T) {
	h := testenv.Herald(t, withWebhookTimings)
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := testinfra.JetStream(t, nc)
	app, key, secret := testenv.AppID, testenv.AppKey, testenv.AppSecret
	quietKey, quietSecret := newApp(t, h, "quiet", map[string]any{"client_events": true})
	setWebhookEvents(t, js, app, channels.WebhookEventNames()...)
	probeWebhooks(t, js, app, key, h)

	p1 := testenv.MustDialPusher(t, h.URL(), key)
	p2 := testenv.MustDialPusher(t, h.URL(), key)
	p1.Subscribe("cache-scores", key, "", "")
	p1.Expect("pusher:cache_miss", "cache-scores")
	p1.Subscribe("private-chat", key, secret, "")
	p2.Subscribe("private-chat", key, secret, "")
	p2.Subscribe("presence-room", key, secret, `{"user_id":"ann"}`)
	p1.Send("client-typing", "private-chat", map[string]any{"who": 1})
	// An acked client event, sent twice with one id: one webhook.
	for range 2 {
		p2.Send("herald:publish", "", map[string]any{"channel": "private-chat", "event": "client-acked", "data": "x", "id": "once"})
		p2.Expect("herald_internal:ack", "")
	}
	want := []string{
		"cache_miss cache-scores", "channel_occupied cache-scores", "subscription_count cache-scores 1",
		"channel_occupied private-chat", "subscription_count private-chat 1",
		`client_event private-chat client-typing {"who":1}`, "subscription_count private-chat 2",
		"client_event private-chat client-acked x",
		"channel_occupied presence-room", "member_added presence-room ann",
	}
	expectWebhookSet(t, js, app, "one gateway's events", want)
	ctx, cancel := context.WithTimeout(t.Context(), webhookDeadline)
	defer cancel()
	s, err := js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		t.Fatal(err)
	}
	// The client event names its sender's socket, and no user on a
	// private channel.
	var sender channels.WebhookEvent
	for seq := uint64(1); sender.Name == ""; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("no client_event: %v", err)
		}
		if env, err := webhookevents.Decode(m.Data); err == nil && env.AppID == app && env.Event.Event == "client-typing" {
			sender = env.Event
		}
	}
	if sender.SocketID != p1.SocketID || sender.UserID != "" {
		t.Fatalf("client_event = %+v, want socket %s and no user", sender, p1.SocketID)
	}

	// The app without webhook events: channels come and go, and neither
	// the state bucket nor the event stream hears of it.
	q := testenv.MustDialPusher(t, h.URL(), quietKey)
	q.Subscribe("private-quiet", quietKey, quietSecret, "")
	q.Subscribe("presence-quiet", quietKey, quietSecret, `{"user_id":"q"}`)
	q.Send("client-x", "private-quiet", map[string]any{})
	unsubscribe(t, q, "private-quiet")
	time.Sleep(webhookQuiet)
	if got := webhookLog(t, js, "quiet"); len(got) != 0 {
		t.Fatalf("an app without webhook events made %v", got)
	}
	kv, err := js.KeyValue(ctx, webhookstate.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys.Keys() {
		if strings.HasPrefix(k, "quiet.") {
			t.Fatalf("webhook state written for an app without webhook events: %s", k)
		}
	}
}

// expectWebhookSet is expectWebhooks where the order does not matter:
// events that one gateway publishes itself (client_event, cache_miss) and
// those the control plane decides are not ordered with each other.
func expectWebhookSet(t *testing.T, js jetstream.JetStream, appID, what string, want []string) {
	t.Helper()
	var got []string
	testinfra.WaitUntilWithin(t, what, webhookDeadline, func() bool {
		got = webhookLog(t, js, appID)
		return len(got) >= len(want)
	})
	time.Sleep(webhookQuiet)
	got = webhookLog(t, js, appID)
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("%s: events\n  %s\nwant (any order)\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
