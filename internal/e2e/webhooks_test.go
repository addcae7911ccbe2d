package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Through `herald dev`: an endpoint created with the admin API gets the
// events published to the webhook stream, signed for the demo app's key
// (pusher-http-go accepts every request); the test route reaches it; the
// app's config tells gateways which kinds to publish; and each delivery
// counts once in webhook_calls.
func TestWebhooksThroughDev(t *testing.T) {
	t.Parallel()
	started := time.Now()
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Metering = platform.MeteringConfig{FlushInterval: meterFlushInterval, FoldWait: meterFoldWait}
		c.Webhooks = platform.WebhooksConfig{AllowPrivate: true, PollInterval: 20 * time.Millisecond}
	})
	r := testenv.NewWebhookReceiver(t, testenv.AppID, testenv.AppKey, testenv.AppSecret, nil)
	base := "/admin/v1/apps/" + testenv.AppID + "/webhooks"
	var w controlplane.WebhookEndpoint
	if code := h.Admin(t, "POST", base, map[string]any{"url": r.URL, "events": []string{"channel_occupied", "channel_vacated", "client_event"}}, &w); code != http.StatusCreated {
		t.Fatalf("create webhook = %d", code)
	}
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := testinfra.JetStream(t, nc)
	kv, err := js.KeyValue(context.Background(), appconfig.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "the app config to want the endpoint's kinds", func() bool {
		e, err := kv.Get(context.Background(), testenv.AppID)
		if err != nil {
			return false
		}
		cfg, err := appconfig.Decode(e.Value())
		return err == nil && slices.Equal(cfg.WebhookEvents, []channels.WebhookEventName{
			channels.WebhookChannelOccupied, channels.WebhookChannelVacated, channels.WebhookClientEvent})
	})
	evs := []channels.WebhookEvent{
		{Name: channels.WebhookChannelOccupied, Channel: "private-chat"},
		{Name: channels.WebhookClientEvent, Channel: "private-chat", Event: "client-hi", Data: `"hello"`, SocketID: "123.456"},
		{Name: channels.WebhookMemberAdded, Channel: "presence-x", UserID: "u"}, // not wanted
		{Name: channels.WebhookChannelVacated, Channel: "private-chat"},
	}
	for _, ev := range evs {
		env := channels.WebhookEnvelope{AppID: testenv.AppID, TimeMS: time.Now().UnixMilli(), Event: ev}
		if err := webhookevents.Publish(context.Background(), js, env, ""); err != nil {
			t.Fatal(err)
		}
	}
	got := r.WaitEvents(3)
	r.Check()
	if g := testenv.WebhookEventsByChannel(got); len(g) != 1 ||
		!slices.Equal(g["private-chat"], []string{"channel_occupied", "client_event", "channel_vacated"}) {
		t.Fatalf("events %v", g)
	}

	var res webhooks.TestResult
	if code := h.Admin(t, "POST", base+"/"+w.ID+"/test", nil, &res); code != http.StatusOK || !res.OK || res.StatusCode != http.StatusOK {
		t.Fatalf("test = %d %+v", code, res)
	}
	if q := r.Requests(); q[len(q)-1].Events[0].Name != webhooks.TestEventName {
		t.Fatalf("last request %+v", q[len(q)-1])
	}
	r.Check()

	var page struct {
		Items      []controlplane.WebhookDelivery
		NextCursor *string `json:"next_cursor"`
	}
	h.Admin(t, "GET", base+"/"+w.ID+"/deliveries?status=delivered", nil, &page)
	if len(page.Items) != 3 || page.Items[0].Attempts != 1 || page.NextCursor != nil {
		t.Fatalf("delivery log %+v", page)
	}

	// Redelivery: the same body under the same X-Herald-Delivery.
	first := r.Requests()[0]
	if code := h.Admin(t, "POST", base+"/"+w.ID+"/deliveries/"+first.Delivery+"/redeliver", nil, nil); code != http.StatusAccepted {
		t.Fatalf("redeliver = %d", code)
	}
	testinfra.WaitUntil(t, "the redelivery", func() bool {
		q := r.Requests()
		last := q[len(q)-1]
		return last.Delivery == first.Delivery && last.Body == first.Body
	})
	r.Check()

	// The three deliveries and the redelivery count; the test request
	// does not.
	q := url.Values{"granularity": {"hour"}, "from": {started.Add(-time.Hour).UTC().Format(time.RFC3339)}}
	testinfra.WaitUntil(t, "webhook_calls 4", func() bool {
		var u controlplane.UsageReport
		h.Admin(t, "GET", "/admin/v1/apps/"+testenv.AppID+"/usage?"+q.Encode(), nil, &u)
		return u.Totals.WebhookCalls == 4 && u.Totals.Messages >= 4
	})

	// Nothing is sent to a disabled endpoint, redeliveries included;
	// enabled again, it takes them.
	redeliver := base + "/" + w.ID + "/deliveries/" + first.Delivery + "/redeliver"
	if code := h.Admin(t, "PATCH", base+"/"+w.ID, map[string]any{"enabled": false}, nil); code != http.StatusOK {
		t.Fatalf("disable = %d", code)
	}
	if code := h.Admin(t, "POST", redeliver, nil, nil); code != http.StatusConflict {
		t.Fatalf("redeliver to a disabled endpoint = %d, want 409", code)
	}
	if code := h.Admin(t, "PATCH", base+"/"+w.ID, map[string]any{"enabled": true}, nil); code != http.StatusOK {
		t.Fatalf("enable = %d", code)
	}
	if code := h.Admin(t, "POST", redeliver, nil, nil); code != http.StatusAccepted {
		t.Fatalf("redeliver once enabled = %d", code)
	}
}
