package webhooks_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Every kind of event published to the stream reaches the endpoint in
// Pusher's format, and pusher-http-go accepts every request.
func TestDeliversPusherWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, nil)
	w := e.endpoint(t, r.URL, false)
	filtered := e.endpoint(t, r.URL+"/filtered", false, channels.WebhookChannelOccupied)
	_, _ = e.store.UpdateWebhookEndpoint(context.Background(), appID, filtered.ID, controlplane.WebhookEndpointPatch{
		ChannelFilter: ptr("private-*")})
	e.start(t, e.fastConfig())

	count := int64(3)
	want := []channels.WebhookEvent{
		occupied("presence-room"),
		{Name: channels.WebhookMemberAdded, Channel: "presence-room", UserID: "u1"},
		{Name: channels.WebhookClientEvent, Channel: "presence-room", Event: "client-typing", Data: `{"x":1}`, SocketID: "1.2", UserID: "u1"},
		{Name: channels.WebhookMemberRemoved, Channel: "presence-room", UserID: "u1"},
		vacated("presence-room"),
		{Name: channels.WebhookCacheMiss, Channel: "cache-news"},
		{Name: channels.WebhookSubscriptionCount, Channel: "news", SubscriptionCount: &count},
		occupied("private-x"),
	}
	e.publish(t, want...)
	// want plus the filtered endpoint's private-x occupied.
	got := r.WaitEvents(len(want) + 1)
	r.Check()
	for _, q := range r.Requests() {
		if len(q.Events) != 1 {
			t.Fatalf("an unbatched request carries %d events", len(q.Events))
		}
	}
	checkOrder(t, got, append(append([]channels.WebhookEvent(nil), want...), occupied("private-x")))
	byName := map[string]int{}
	for _, ev := range got {
		byName[ev.Name]++
		switch ev.Name {
		case "client_event":
			if ev.Event != "client-typing" || ev.Data != `{"x":1}` || ev.SocketID != "1.2" || ev.UserID != "u1" {
				t.Errorf("client_event %+v", ev)
			}
		case "member_added":
			if ev.UserID != "u1" {
				t.Errorf("member_added %+v", ev)
			}
		}
	}
	if byName["channel_occupied"] != 3 {
		t.Errorf("occupied events %d, want 3 (2 + the filtered endpoint's private one)", byName["channel_occupied"])
	}
	for _, q := range r.Requests() {
		if strings.Contains(q.Body, "subscription_count") && !strings.Contains(q.Body, `"subscription_count":3`) {
			t.Errorf("subscription_count body %s", q.Body)
		}
	}
	testinfra.WaitUntil(t, "every delivery delivered", func() bool {
		ds := e.deliveries(t, w.ID)
		for _, d := range ds {
			if d.Status != controlplane.WebhookDelivered || d.Attempts != 1 || d.DeliveredAt == nil {
				return false
			}
		}
		return len(ds) == len(want)
	})
}

func ptr[T any](v T) *T { return &v }

// A batch endpoint gets up to 100 events per request, at most one request
// per batch gap, in order.
func TestBatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, nil)
	e.endpoint(t, r.URL, true)
	cfg := e.fastConfig()
	e.start(t, cfg)
	var chans []string
	for i := range 125 {
		chans = append(chans, fmt.Sprintf("c%d", i))
	}
	want := sequence(chans, 2)
	e.publish(t, want...)
	got := r.WaitEvents(len(want))
	r.Check()
	checkOrder(t, got, want)
	reqs := r.Requests()
	if len(reqs) < 3 {
		t.Fatalf("%d requests for %d events", len(reqs), len(want))
	}
	for i, q := range reqs {
		if len(q.Events) > controlplane.MaxWebhookBatch {
			t.Errorf("request %d carries %d events", i, len(q.Events))
		}
		if i > 0 && q.At.Sub(reqs[i-1].At) < cfg.BatchGap-10*time.Millisecond {
			t.Errorf("requests %d and %d %s apart, under the batch gap %s", i-1, i, q.At.Sub(reqs[i-1].At), cfg.BatchGap)
		}
	}
}

// An endpoint answering 500 three times, one that hangs past the timeout
// twice and one that refuses connections for several backoff steps all get
// every event, in order per channel, with the attempts in the delivery
// log; a healthy endpoint of the same app is not held back by them.
func TestFaultsRetriedInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.fastConfig()
	flaky := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n <= 3 {
			w.WriteHeader(http.StatusInternalServerError)
			return false
		}
		return true
	})
	// The hanging endpoint answers nothing within the timeout while stuck
	// (at least its first two requests).
	var stuck atomic.Bool
	stuck.Store(true)
	hang := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n <= 2 || stuck.Load() {
			time.Sleep(cfg.Timeout + 300*time.Millisecond)
		}
		return true
	})
	healthy := newReceiver(t, nil)

	// The down endpoint: an address nothing listens on yet.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := ln.Addr().String()
	_ = ln.Close()

	wf := e.endpoint(t, flaky.URL, false)
	wh := e.endpoint(t, hang.URL, false)
	wd := e.endpoint(t, "http://"+downAddr+"/hook", false)
	e.endpoint(t, healthy.URL, false)
	e.start(t, cfg)

	want := sequence([]string{"a", "b", "c"}, 4)
	e.publish(t, want...)
	checkOrder(t, healthy.WaitEvents(len(want)), want)
	// Isolation: the healthy endpoint got everything while the hanging
	// one has not had a single answer yet.
	if n := len(hang.Events()); n != 0 {
		t.Fatalf("the hanging endpoint got %d events before it was released", n)
	}
	stuck.Store(false)

	// The down endpoint comes up after several refused attempts.
	testinfra.WaitUntil(t, "several refused attempts", func() bool {
		ds := e.deliveries(t, wd.ID)
		return len(ds) > 0 && ds[len(ds)-1].Attempts >= 4
	})
	l2, err := net.Listen("tcp", downAddr)
	if err != nil {
		t.Fatal(err)
	}
	down := testenv.NewWebhookReceiverOn(t, l2, appID, appKey, appSecret, nil)

	for name, r := range map[string]*testenv.WebhookReceiver{"flaky": flaky, "hang": hang, "down": down} {
		t.Logf("waiting for %s", name)
		checkOrder(t, r.WaitEvents(len(want)), want)
		r.Check()
	}
	first := func(id string) controlplane.WebhookDelivery {
		ds := e.deliveries(t, id)
		return ds[len(ds)-1] // oldest
	}
	if d := first(wf.ID); d.Attempts != 4 || d.Status != controlplane.WebhookDelivered || *d.LastStatusCode != 200 {
		t.Errorf("flaky endpoint's first delivery %+v", d)
	}
	if d := first(wh.ID); d.Attempts < 3 || d.Status != controlplane.WebhookDelivered {
		t.Errorf("hanging endpoint's first delivery %+v", d)
	}
	if d := first(wd.ID); d.Attempts < 5 || d.Status != controlplane.WebhookDelivered {
		t.Errorf("down endpoint's first delivery %+v", d)
	}
	var timeouts, refused int
	_ = e.pool(t).QueryRow(context.Background(),
		"select count(*) filter (where error like 'timeout%'), count(*) filter (where error = 'connection refused') from webhook_attempts").
		Scan(&timeouts, &refused)
	if timeouts < 2 || refused < 4 {
		t.Errorf("attempt log: %d timeouts, %d refused", timeouts, refused)
	}
}

// Without --webhook-allow-private, a request to a loopback address (an
// endpoint whose name now resolves there: DNS rebinding) is refused at
// dial time and never reaches it.
func TestPrivateAddressRefusedAtDial(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, nil)
	w := e.endpoint(t, strings.Replace(r.URL, "127.0.0.1", "localhost", 1), false)
	cfg := e.fastConfig()
	cfg.AllowPrivate = false
	cfg.RetryWindow = 300 * time.Millisecond
	e.start(t, cfg)
	e.publish(t, occupied("a"))
	testinfra.WaitUntil(t, "the delivery failed", func() bool {
		ds := e.deliveries(t, w.ID)
		return len(ds) == 1 && ds[0].Status == controlplane.WebhookFailed
	})
	d := e.deliveries(t, w.ID)[0]
	if d.LastError == nil || !strings.Contains(*d.LastError, "address refused") || d.LastStatusCode != nil {
		t.Errorf("delivery %+v, error %v", d, *d.LastError)
	}
	if n := len(r.Requests()); n != 0 {
		t.Errorf("the loopback endpoint got %d requests", n)
	}
}

// Redelivery sends the same body under the same X-Herald-Delivery; the
// test request is signed and answers the endpoint's status.
func TestRedeliverAndTest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, nil)
	w := e.endpoint(t, r.URL, false)
	d := e.start(t, e.fastConfig())
	e.publish(t, occupied("a"))
	r.WaitEvents(1)
	ds := e.deliveries(t, w.ID)
	testinfra.WaitUntil(t, "delivered", func() bool { return e.deliveries(t, w.ID)[0].Status == controlplane.WebhookDelivered })
	if err := e.store.RedeliverWebhook(context.Background(), appID, w.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "redelivered", func() bool { return len(r.Requests()) == 2 })
	q := r.Requests()
	if q[0].Delivery != ds[0].ID || q[1].Delivery != q[0].Delivery || q[1].Body != q[0].Body {
		t.Errorf("redelivery differs: %q %q / %s %s", q[0].Delivery, q[1].Delivery, q[0].Body, q[1].Body)
	}
	res, err := d.Test(context.Background(), appID, w.ID)
	if err != nil || !res.OK || res.StatusCode != 200 {
		t.Fatalf("test = %+v, %v", res, err)
	}
	q = r.Requests()
	if len(q) != 3 || len(q[2].Events) != 1 || q[2].Events[0].Name != "webhook_test" {
		t.Fatalf("test request %+v", q[len(q)-1])
	}
	r.Check()
}

// An endpoint that fails every delivery for the auto-disable period is
// disabled, with an audit entry.
func TestAutoDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(failing.Close)
	w := e.endpoint(t, failing.URL, false)
	cfg := e.fastConfig()
	cfg.DisableAfter = 500 * time.Millisecond
	e.start(t, cfg)
	e.publish(t, occupied("a"), vacated("a"))
	testinfra.WaitUntil(t, "the endpoint disabled", func() bool {
		got, err := e.store.GetWebhookEndpoint(context.Background(), appID, w.ID)
		return err == nil && !got.Enabled && got.DisabledAt != nil
	})
	entries, _, err := e.store.ListAudit(context.Background(), controlplane.Page{})
	if err != nil || len(entries) == 0 || entries[0].Action != "webhook.disable" || entries[0].Target != w.ID {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
	for _, d := range e.deliveries(t, w.ID) {
		if d.Status != controlplane.WebhookFailed {
			t.Errorf("delivery %+v still %s", d.ID, d.Status)
		}
	}
}

// Two dispatchers (two control planes) share the consumer and split the
// endpoints: every endpoint gets each event once, in order per channel.
func TestTwoDispatchersShareTheWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var rs []*testenv.WebhookReceiver
	for range 4 {
		r := newReceiver(t, nil)
		e.endpoint(t, r.URL, false)
		rs = append(rs, r)
	}
	e.start(t, e.fastConfig())
	e.start(t, e.fastConfig())
	want := sequence([]string{"a", "b", "c", "d"}, 6)
	e.publish(t, want...)
	for _, r := range rs {
		checkOrder(t, r.WaitEvents(len(want)), want)
		r.Check()
		if n := len(r.Requests()); n != len(want) {
			t.Errorf("%d requests for %d events", n, len(want))
		}
	}
}

// A control plane that fetched events and died before queuing them holds
// them until the ack wait passes, while another control plane queues the
// later events of the same channel: the later ones wait, and the endpoint
// still gets the channel's events in the order they happened.
func TestEventsHeldByADeadConsumerKeepTheirPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, nil)
	e.endpoint(t, r.URL, false)
	cfg := e.fastConfig()
	cfg.AckWait = time.Second
	ctx := context.Background()
	cons, err := e.js.CreateOrUpdateConsumer(ctx, webhookevents.Stream, jetstream.ConsumerConfig{
		Durable: webhooks.DefaultConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait, MaxDeliver: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	first := []channels.WebhookEvent{occupied("a"), {Name: channels.WebhookMemberAdded, Channel: "a", UserID: "u"}}
	e.publish(t, first...)
	// The dead control plane: it fetched the first two and never acks.
	held, err := cons.Fetch(len(first), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range held.Messages() {
		n++
	}
	if n != len(first) {
		t.Fatalf("held %d events", n)
	}
	later := []channels.WebhookEvent{{Name: channels.WebhookMemberRemoved, Channel: "a", UserID: "u"}, vacated("a")}
	e.publish(t, later...)
	e.start(t, cfg)
	checkOrder(t, r.WaitEvents(4), append(first, later...))
	r.Check()
}
