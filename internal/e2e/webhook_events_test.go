package e2e_test

import (
	"encoding/json"

	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// withWebhookTimings shortens the leave delay and lets the dispatcher
// reach the tests' loopback receivers.
func withWebhookTimings(c *platform.Config) {
	c.WebhookSources = platform.WebhookSourcesConfig{LeaveDelay: webhookLeaveDelay, Settle: webhookSettle, CountInterval: time.Second}
	c.Webhooks = platform.WebhooksConfig{AllowPrivate: true, PollInterval: 20 * time.Millisecond}
}

// webhookEndpoint registers an endpoint for app through the admin API,
// as a tenant's operator does, wanting kinds, and returns the receiver
// behind it: every request it gets is checked with pusher-http-go's
// webhook validation for the app's key and secret. The control plane
// republishes the app's config with the kinds, which is what tells the
// gateways to publish them.
func webhookEndpoint(t *testing.T, cp testenv.Node, app, key, secret string, kinds ...channels.WebhookEventName) *testenv.WebhookReceiver {
	t.Helper()
	r := testenv.NewWebhookReceiver(t, app, key, secret, nil)
	t.Cleanup(r.Check)
	if code := cp.Admin(t, "POST", "/admin/v1/apps/"+app+"/webhooks", map[string]any{"url": r.URL, "events": kinds}, nil); code != 201 {
		t.Fatalf("create webhook endpoint = %d", code)
	}
	return r
}

// receivedLog is what the receiver got, as webhookString shows each
// event, in the order it arrived, each delivery once, probe channels
// left out. It decodes the bodies itself: pusher-http-go's event type
// has no subscription_count.
func receivedLog(t *testing.T, r *testenv.WebhookReceiver) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, q := range r.Requests() {
		if seen[q.Delivery] {
			continue
		}
		seen[q.Delivery] = true
		var body struct {
			Events []channels.WebhookEvent `json:"events"`
		}
		if err := json.Unmarshal([]byte(q.Body), &body); err != nil {
			t.Fatalf("webhook body %q: %v", q.Body, err)
		}
		for _, e := range body.Events {
			if !strings.HasPrefix(e.Channel, "probe-") {
				out = append(out, webhookString(e))
			}
		}
	}
	return out
}

// streamLog reads an app's events from HERALD_WEBHOOK_EVENTS, as
// "<kind> <channel> [user] [event data]" in stream order, leaving out
// probe channels: what gateways and control planes published, whether
// or not an endpoint wants it.
func streamLog(t *testing.T, js jetstream.JetStream, appID string) []string {
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

// expectWebhooks waits until the endpoint received want (per channel, in
// order), then checks nothing more comes.
func expectWebhooks(t *testing.T, r *testenv.WebhookReceiver, what string, want []string) {
	t.Helper()
	expectReceived(t, r, what, want, "per channel, in order", testinfra.PerChannel)
}

// expectWebhookSet is expectWebhooks where the order does not matter:
// events that one gateway publishes itself (client_event, cache_miss) and
// those the control plane decides are not ordered with each other.
func expectWebhookSet(t *testing.T, r *testenv.WebhookReceiver, what string, want []string) {
	t.Helper()
	expectReceived(t, r, what, want, "any order", func(evs []string) []string { return slices.Sorted(slices.Values(evs)) })
}

// expectReceived waits until the endpoint received as many events as
// want, lets webhookQuiet pass so that any extra one arrives, and
// compares both lists in the form norm puts them in (order says which).
func expectReceived(t *testing.T, r *testenv.WebhookReceiver, what string, want []string, order string, norm func([]string) []string) {
	t.Helper()
	testinfra.WaitUntilWithin(t, what, webhookDeadline, func() bool { return len(receivedLog(t, r)) >= len(want) })
	time.Sleep(webhookQuiet)
	got := receivedLog(t, r)
	if !slices.Equal(norm(got), norm(want)) {
		t.Fatalf("%s: events\n  %s\nwant (%s)\n  %s", what, strings.Join(got, "\n  "), order, strings.Join(want, "\n  "))
	}
}

// probeWebhooks waits until a channel joined through each gateway makes
// a channel_occupied that reaches the endpoint: the control plane and
// that gateway both know the app's WebhookEvents.
func probeWebhooks(t *testing.T, r *testenv.WebhookReceiver, key string, gws ...testenv.Node) {
	t.Helper()
	for i, g := range gws {
		ch := fmt.Sprintf("probe-%d", i)
		testinfra.WaitUntilWithin(t, "webhook events of "+ch, webhookDeadline, func() bool {
			p := testenv.MustDialPusher(t, g.URL(), key)
			defer p.WS().Close()
			p.Subscribe(ch, key, "", "")
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) {
				if occupied(r, ch) {
					return true
				}
				time.Sleep(100 * time.Millisecond)
			}
			return false
		})
	}
}

// occupied reports whether the endpoint received channel_occupied for ch.
func occupied(r *testenv.WebhookReceiver, ch string) bool {
	for _, e := range r.Events() {
		if e.Name == string(channels.WebhookChannelOccupied) && e.Channel == ch {
			return true
		}
	}
	return false
}

// unsubscribe leaves a channel and waits until the gateway has handled it.
func unsubscribe(t *testing.T, p *testenv.PusherClient, ch string) {
	t.Helper()
	p.Send("pusher:unsubscribe", "", map[string]any{"channel": ch})
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")
}

// A scripted sequence of clients joining and leaving on two gateways of a
// 3-node NATS cluster, with two control planes, delivers exactly the
// expected webhook events to an endpoint registered through the admin API
// (every request checked with pusher-http-go's webhook validation): each real cluster-wide transition once (both
// control planes decide it), none for a gateway's own comings and goings
// while another holds the channel or the user, none for a leave and quick
// return through the other gateway, the channels of a killed gateway
// vacated by the control planes, and a transition after one control plane
// was killed reported by the other.
func TestWebhookEventsAcrossGateways(t *testing.T) {
	// Parallel: it runs processes of its own and spends most of its time
	// waiting on them (timeouts, restarts), so it overlaps with the other
	// long e2e tests.
	t.Parallel()
	cl := newClusterEnv(t, withWebhookTimings)
	testenv.StartHerald(t, cl.cp.Config) // a second control plane: both decide every transition
	g1, g2 := cl.gateway(t, "gw-one"), cl.gateway(t, "gw-two")
	const app = "hooks"
	key, secret := newAppOn(t, cl.cp, []testenv.Node{g1, g2}, app)
	r := webhookEndpoint(t, cl.cp, app, key, secret, channels.WebhookChannelOccupied, channels.WebhookChannelVacated,
		channels.WebhookMemberAdded, channels.WebhookMemberRemoved, channels.WebhookClientEvent)
	probeWebhooks(t, r, key, g1, g2)

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
	expectWebhooks(t, r, "channels and members joined on both gateways", want)

	// Leaves while another gateway still holds the channel or the user.
	unsubscribe(t, a, lobby) // ann stays through c on gw-two
	unsubscribe(t, x, news)  // news stays through y on gw-two
	expectWebhooks(t, r, "partial leaves", want)

	// The last subscriber of news leaves gw-two and the channel comes
	// back through gw-one within the leave delay; so does ann's last
	// connection to the lobby: nothing is sent.
	unsubscribe(t, y, news)
	x.Subscribe(news, key, secret, "")
	unsubscribe(t, c, lobby)
	a.Subscribe(lobby, key, secret, `{"user_id":"ann"}`)
	expectWebhooks(t, r, "quick returns through the other gateway", want)

	// ann's last connection leaves; then a client event on the presence
	// channel carries its sender. (A delayed event is published when its
	// delay ends, after what happened meanwhile; its time_ms says when it
	// happened.)
	unsubscribe(t, a, lobby)
	want = append(want, "member_removed "+lobby+" ann")
	expectWebhooks(t, r, "ann's last connection left", want)
	b.Send("client-wave", lobby, map[string]any{"hi": 1})
	want = append(want, "client_event "+lobby+` ben client-wave {"hi":1}`)
	expectWebhooks(t, r, "a client event", want)

	// gw-two dies holding lobby (ben) and private-solo: the control plane
	// vacates them once its registry entry expires; news stays on gw-one.
	y.Subscribe(solo, key, secret, "")
	want = append(want, "channel_occupied "+solo)
	expectWebhooks(t, r, "a channel on the gateway about to die", want)
	g2.Kill()
	want = append(want, "member_removed "+lobby+" ben", "channel_vacated "+lobby, "channel_vacated "+solo)
	expectWebhooks(t, r, "the dead gateway's channels vacated", want)

	// One control plane dies; the other reports the survivor's channel
	// leaving for good.
	cl.cp.Kill()
	unsubscribe(t, x, news)
	want = append(want, "channel_vacated "+news)
	expectWebhooks(t, r, "the last channel vacated", want)
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
	r := webhookEndpoint(t, h, app, key, secret, channels.WebhookEventNames()...)
	probeWebhooks(t, r, key, h)

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
	expectWebhookSet(t, r, "one gateway's events", want)
	ctx, cancel := context.WithTimeout(t.Context(), webhookDeadline)
	defer cancel()
	// The client event names its sender's socket, and no user on a
	// private channel.
	var sender pusher.WebhookEvent
	for _, e := range r.Events() {
		if e.Event == "client-typing" {
			sender = e
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
	if got := streamLog(t, js, "quiet"); len(got) != 0 {
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
