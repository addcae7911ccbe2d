package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// debugWait bounds the wait for one debug event: the promise is within a
// second; the slack is for a loaded machine.
const debugWait = 5 * time.Second

// debugStream reads an app's live debug stream.
type debugStream struct {
	t      *testing.T
	events chan channels.DebugEvent
	seen   []channels.DebugEvent
	// comments counts the comment lines (heartbeats) read.
	comments atomic.Int64
}

// openDebugStream opens GET /admin/v1/apps/{app}/debug/events with the
// admin token and waits for its ready event.
func openDebugStream(t *testing.T, h *testenv.HeraldEnv, appID string) *debugStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", h.URL()+"/admin/v1/apps/"+appID+"/debug/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.AdminToken())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("debug stream = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &debugStream{t: t, events: make(chan channels.DebugEvent, 10_000)}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), ":") {
				s.comments.Add(1)
			}
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev channels.DebugEvent
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Errorf("debug event %q: %v", line, err)
				return
			}
			s.events <- ev
		}
		close(s.events)
	}()
	if ev := s.expect(func(ev channels.DebugEvent) bool { return true }); ev.Type != channels.DebugReady {
		t.Fatalf("first event %+v, want ready", ev)
	}
	return s
}

// expect returns the next event that match accepts, within debugWait.
func (s *debugStream) expect(match func(channels.DebugEvent) bool) channels.DebugEvent {
	s.t.Helper()
	ev, ok := s.within(debugWait, match)
	if !ok {
		s.t.Fatalf("no matching debug event within %s; seen %+v", debugWait, s.seen)
	}
	return ev
}

// within returns the next event that match accepts, or false after d.
func (s *debugStream) within(d time.Duration, match func(channels.DebugEvent) bool) (channels.DebugEvent, bool) {
	s.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("debug stream ended; seen %+v", s.seen)
			}
			s.seen = append(s.seen, ev)
			if match(ev) {
				return ev, true
			}
		case <-deadline:
			return channels.DebugEvent{}, false
		}
	}
}

// expectKind returns the next event of kind on channel ("" any).
func (s *debugStream) expectKind(kind channels.DebugKind, channel string) channels.DebugEvent {
	s.t.Helper()
	return s.expect(func(ev channels.DebugEvent) bool {
		return ev.Type == kind && (channel == "" || ev.Channel == channel)
	})
}

func debugPath(appID string) string { return "/admin/v1/apps/" + appID + "/debug/events" }

// The stream is for admins: tenant credentials of the very app are a
// 401, and an unknown app a 404.
func TestDebugStreamRefusals(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	basic, _ := http.NewRequest("GET", h.URL()+debugPath(testenv.AppID), nil)
	basic.SetBasicAuth(testenv.AppKey, testenv.AppSecret)
	if code, _ := testenv.Do(t, http.DefaultClient, basic); code != http.StatusUnauthorized {
		t.Fatalf("basic key:secret = %d, want 401", code)
	}
	if code, _ := testenv.SignedRequest(t, "GET", h.URL(), debugPath(testenv.AppID), testenv.AppKey, testenv.AppSecret, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("pusher-signed = %d, want 401", code)
	}
	none, _ := http.NewRequest("GET", h.URL()+debugPath(testenv.AppID), nil)
	if code, _ := testenv.Do(t, http.DefaultClient, none); code != http.StatusUnauthorized {
		t.Fatalf("no credentials = %d, want 401", code)
	}
	if code := h.Admin(t, "GET", debugPath("no-such-app"), nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown app = %d, want 404", code)
	}
}

// With a console open, what a client does and what the API publishes
// appears in the stream, the moment it happens.
func TestDebugStreamShowsTraffic(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	s := openDebugStream(t, h, testenv.AppID)

	p := testenv.MustDialPusher(t, h.URL(), testenv.AppKey)
	ev := s.expectKind(channels.DebugConnected, "")
	if ev.SocketID != p.SocketID || ev.Transport != "ws" || ev.RemoteAddr == "" || ev.Gateway == "" || ev.Time == 0 {
		t.Fatalf("connected %+v", ev)
	}

	p.Subscribe("public-room", "", "", "")
	s.expectKind(channels.DebugChannelOccupied, "public-room")
	if ev := s.expectKind(channels.DebugSubscribed, "public-room"); ev.SocketID != p.SocketID {
		t.Fatalf("subscribed %+v", ev)
	}

	// A wrong signature: the error the client got is shown.
	if got := p.Subscribe("private-room", testenv.AppKey, "wrong-secret", ""); got.Event != "pusher:subscription_error" {
		t.Fatalf("private subscribe with a wrong secret: %+v", got)
	}
	if ev := s.expectKind(channels.DebugSubscriptionError, "private-room"); ev.Code != http.StatusUnauthorized || ev.Message == "" {
		t.Fatalf("subscription_error %+v", ev)
	}

	p.Subscribe("presence-room", testenv.AppKey, testenv.AppSecret, `{"user_id":"ann"}`)
	if ev := s.expectKind(channels.DebugMemberAdded, "presence-room"); ev.UserID != "ann" || ev.SocketID != p.SocketID {
		t.Fatalf("member_added %+v", ev)
	}
	p.Subscribe("private-room", testenv.AppKey, testenv.AppSecret, "")

	p.Send("client-typing", "private-room", map[string]any{"who": "ann"})
	if ev := s.expectKind(channels.DebugClientEvent, "private-room"); ev.Event != "client-typing" ||
		ev.Serial == 0 || ev.Preview != `{"who":"ann"}` || ev.Size != len(ev.Preview) || ev.SocketID != p.SocketID {
		t.Fatalf("client_event %+v", ev)
	}

	p.Send("herald:publish", "", map[string]any{"channel": "private-room", "event": "client-note", "data": "hi", "id": "m1"})
	ack, _ := p.Expect("herald_internal:ack", "")
	var a struct{ Serial uint64 }
	ack.DecodeData(t, &a)
	if ev := s.expectKind(channels.DebugAckedPublish, "private-room"); ev.Serial != a.Serial || ev.Event != "client-note" || ev.Preview != "hi" {
		t.Fatalf("acked_publish %+v, ack serial %d", ev, a.Serial)
	}

	p.Send("pusher:bogus", "", map[string]any{})
	if ev := s.expectKind(channels.DebugClientError, ""); ev.Code != int(channels.PusherGeneric) || !strings.Contains(ev.Message, "unsupported event") {
		t.Fatalf("client_error %+v", ev)
	}

	p.Send("pusher:unsubscribe", "", map[string]any{"channel": "public-room"})
	s.expectKind(channels.DebugUnsubscribed, "public-room")
	s.expectKind(channels.DebugChannelVacated, "public-room")

	// Leaving its channels comes before the connection is gone.
	p.WS().Close()
	if ev := s.expectKind(channels.DebugMemberRemoved, "presence-room"); ev.UserID != "ann" {
		t.Fatalf("member_removed %+v", ev)
	}
	if ev := s.expectKind(channels.DebugDisconnected, ""); ev.SocketID != p.SocketID || ev.Transport != "ws" {
		t.Fatalf("disconnected %+v", ev)
	}

	// A REST publish to a channel nobody is on is shown with its serial;
	// a large payload's preview is cut to 256 bytes.
	data := strings.Repeat("x", 1000)
	serials := testenv.Trigger(t, h.URL(), testenv.AppID, testenv.AppKey, testenv.AppSecret, "big", data, "empty-channel")
	ev = s.expectKind(channels.DebugAPIMessage, "empty-channel")
	if ev.Serial != serials["empty-channel"] || ev.Size != 1000 || len(ev.Preview) != channels.DebugPreviewBytes || !ev.Truncated || ev.Event != "big" {
		t.Fatalf("api_message %+v, serial %d", ev, serials["empty-channel"])
	}
}

// Names and payloads are data: markup comes through as exact JSON
// strings, in a channel name a client tried, an event name and a payload.
func TestDebugStreamKeepsMarkupAsText(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	s := openDebugStream(t, h, testenv.AppID)
	const xss = `<img src=x onerror=alert(1)>`
	p := testenv.MustDialPusher(t, h.URL(), testenv.AppKey)
	p.Subscribe(xss, "", "", "")
	if ev := s.expectKind(channels.DebugSubscriptionError, xss); ev.Code != http.StatusBadRequest {
		t.Fatalf("subscription_error %+v", ev)
	}
	event, data := "e"+xss, xss+`"</script>\u2028`
	testenv.Trigger(t, h.URL(), testenv.AppID, testenv.AppKey, testenv.AppSecret, event, data, "markup")
	if ev := s.expectKind(channels.DebugAPIMessage, "markup"); ev.Event != event || ev.Preview != data {
		t.Fatalf("api_message %+v", ev)
	}
}

// Over the cap, events are dropped and counted: what is shown and what
// is counted as dropped add up to what happened.
func TestDebugStreamCap(t *testing.T) {
	t.Parallel()
	const perSecond, published = 20, 200
	h := testenv.Herald(t, func(c *platform.Config) { c.Debug.EventsPerSecond = perSecond })
	s := openDebugStream(t, h, testenv.AppID)
	for i := range published {
		testenv.Trigger(t, h.URL(), testenv.AppID, testenv.AppKey, testenv.AppSecret, "e", "x", "cap-"+string(rune('a'+i%26)))
	}
	shown := map[int64]int{} // events per second
	var dropped int64
	total := 0
	s.expect(func(ev channels.DebugEvent) bool {
		switch ev.Type {
		case channels.DebugAPIMessage:
			shown[ev.Time/1000]++
			total++
		case channels.DebugDropped:
			dropped += ev.Count
		}
		return int64(total)+dropped >= published
	})
	if dropped == 0 || int64(total)+dropped != published {
		t.Fatalf("shown %d + dropped %d, want %d in all with some dropped", total, dropped, published)
	}
	for sec, n := range shown {
		if n > perSecond {
			t.Fatalf("%d events shown in second %d, over the cap %d", n, sec, perSecond)
		}
	}
}

// A failing webhook endpoint's attempts are shown with their status.
func TestDebugStreamShowsWebhookAttempts(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Webhooks = platform.WebhooksConfig{AllowPrivate: true, PollInterval: 20 * time.Millisecond,
			FirstRetry: 50 * time.Millisecond, MaxRetry: 100 * time.Millisecond}
	})
	r := testenv.NewWebhookReceiver(t, testenv.AppID, testenv.AppKey, testenv.AppSecret, func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusInternalServerError)
		return false
	})
	var w struct{ ID string }
	if code := h.Admin(t, "POST", "/admin/v1/apps/"+testenv.AppID+"/webhooks",
		map[string]any{"url": r.URL, "events": []string{"channel_occupied"}}, &w); code != http.StatusCreated {
		t.Fatalf("create webhook = %d", code)
	}
	s := openDebugStream(t, h, testenv.AppID)
	// Until the gateway has the config that wants channel_occupied, a
	// subscribe makes no webhook: occupy channels until one does.
	var first *channels.DebugDelivery
	testinfra.WaitUntil(t, "a channel_occupied webhook attempt", func() bool {
		p := testenv.MustDialPusher(t, h.URL(), testenv.AppKey)
		p.Subscribe("hooked", "", "", "")
		ev, ok := s.within(time.Second, func(ev channels.DebugEvent) bool { return ev.Type == channels.DebugWebhook })
		p.WS().Close()
		first = ev.Webhook
		return ok
	})
	if first == nil || first.EndpointID != w.ID || first.Status != "retrying" || first.StatusCode != http.StatusInternalServerError ||
		first.Attempts != 1 || first.DeliveryID == "" || len(first.Events) == 0 || first.Events[0] != "channel_occupied" {
		t.Fatalf("webhook %+v", first)
	}
	second := s.expect(func(ev channels.DebugEvent) bool {
		return ev.Type == channels.DebugWebhook && ev.Webhook.DeliveryID == first.DeliveryID && ev.Webhook.Attempts == 2
	}).Webhook
	if second.Status != "retrying" && second.Status != "failed" {
		t.Fatalf("second attempt %+v", second)
	}
}

// An idle stream gets heartbeats; a stopping server ends open streams at
// once instead of waiting for consoles to leave.
func TestDebugStreamHeartbeatAndShutdown(t *testing.T) {
	t.Parallel()
	const heartbeat = 100 * time.Millisecond
	h := testenv.Herald(t, func(c *platform.Config) { c.Debug.Heartbeat = heartbeat })
	s := openDebugStream(t, h, testenv.AppID)
	testinfra.WaitUntilWithin(t, "heartbeats", debugWait, func() bool { return s.comments.Load() >= 3 })

	started := time.Now()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	// The shutdown timeout is 5 s: a stream that held the HTTP server's
	// shutdown would take that long.
	if took := time.Since(started); took > h.Config.ShutdownTimeout/2 {
		t.Fatalf("shutdown with a debug stream open took %s", took)
	}
	select {
	case _, open := <-s.events:
		for open {
			_, open = <-s.events
		}
	case <-time.After(debugWait):
		t.Fatal("the debug stream did not end with the server")
	}
}

// A refused connection of a watched app is shown with the pusher:error
// it got.
func TestDebugStreamShowsRefusedConnections(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	if code := h.Admin(t, "PATCH", "/admin/v1/apps/"+testenv.AppID, map[string]any{"settings": map[string]any{"allowed_origins": []string{"https://ok.example"}}}, nil); code != http.StatusOK {
		t.Fatalf("patch app = %d", code)
	}
	s := openDebugStream(t, h, testenv.AppID)
	testinfra.WaitUntil(t, "a refused connection shown", func() bool {
		p, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", http.Header{"Origin": {"https://evil.example"}})
		if p != nil {
			p.WS().Close()
		}
		if err == nil {
			return false // the gateway does not have the new setting yet
		}
		_, ok := s.within(time.Second, func(ev channels.DebugEvent) bool {
			return ev.Type == channels.DebugClientError && ev.Code == int(channels.PusherUnauthorized) && ev.Message == "origin not allowed"
		})
		return ok
	})
}

// In a cluster, the control plane's stream shows what happens on every
// gateway, each event naming its gateway, and the API's publishes.
func TestDebugStreamAcrossGateways(t *testing.T) {
	t.Parallel()
	cl := newClusterEnv(t)
	g1, g2 := cl.gateway(t, "gw-one"), cl.gateway(t, "gw-two")
	key, secret := newAppOn(t, cl.cp, []testenv.Node{g1, g2}, "debug-cluster")
	s := openDebugStream(t, cl.cp, "debug-cluster")
	for _, g := range []*testenv.HeraldEnv{g1, g2} {
		// ready says the control plane's watcher saw the stream's interest;
		// a gateway's sees it through the NATS cluster, which a cluster
		// that has just formed (routes still connecting) can delay: a
		// connection made before is not shown, so dial again.
		var p *testenv.PusherClient
		testinfra.WaitUntil(t, "a connection on "+g.Config.GatewayID+" shown", func() bool {
			c := testenv.MustDialPusher(t, g.URL(), key)
			ev, ok := s.within(time.Second, func(ev channels.DebugEvent) bool {
				return ev.Type == channels.DebugConnected && ev.SocketID == c.SocketID
			})
			if !ok {
				c.WS().Close()
				return false
			}
			if ev.Gateway != g.Config.GatewayID {
				t.Fatalf("connected %+v, want it on %s", ev, g.Config.GatewayID)
			}
			p = c
			return true
		})
		p.Subscribe("shared", "", "", "")
		if ev := s.expectKind(channels.DebugChannelOccupied, "shared"); ev.Gateway != g.Config.GatewayID {
			t.Fatalf("channel_occupied %+v on %s", ev, g.Config.GatewayID)
		}
	}
	serials := testenv.Trigger(t, cl.cp.URL(), "debug-cluster", key, secret, "e", "d", "shared")
	if ev := s.expectKind(channels.DebugAPIMessage, "shared"); ev.Serial != serials["shared"] {
		t.Fatalf("api_message %+v, serial %d", ev, serials["shared"])
	}
}

// An SSE client is a connection too: shown with its transport.
func TestDebugStreamShowsSSEConnections(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	s := openDebugStream(t, h, testenv.AppID)
	sse, code, _ := openSSE(t, h, "key="+testenv.AppKey+"&channel=feed", "")
	if code != http.StatusOK {
		t.Fatalf("open sse = %d", code)
	}
	ev := s.expectKind(channels.DebugConnected, "")
	if ev.Transport != "sse" || ev.SocketID == "" || ev.RemoteAddr == "" {
		t.Fatalf("connected %+v", ev)
	}
	if got := s.expectKind(channels.DebugSubscribed, "feed"); got.SocketID != ev.SocketID {
		t.Fatalf("subscribed %+v", got)
	}
	sse.close()
	if got := s.expectKind(channels.DebugDisconnected, ""); got.SocketID != ev.SocketID || got.Transport != "sse" {
		t.Fatalf("disconnected %+v", got)
	}
}
