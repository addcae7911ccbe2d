package webhooks_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Operator events go to the operator endpoints that want them, signed
// with each endpoint's own key (pusher-http-go accepts them), and to no
// app endpoint; app events go to no operator endpoint; a stream message
// published twice under one id is delivered once; the test request signs
// with the operator key too.
func TestDeliversOperatorWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	appReceiver := newReceiver(t, nil)
	e.endpoint(t, appReceiver.URL, false)

	operator := func(events ...channels.WebhookEventName) *testenv.WebhookReceiver {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		w, err := e.store.CreateOperatorWebhookEndpoint(ctx, controlplane.NewWebhookEndpoint{
			URL: "http://" + ln.Addr().String(), Events: events, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		testinfra.Sensitive(w.Secret)
		r := testenv.NewWebhookReceiverOn(t, ln, "operator", w.Key, w.Secret, nil)
		t.Cleanup(r.Check)
		return r
	}
	both := operator(channels.OperatorWebhookEventNames()...)
	exceededOnly := operator(channels.WebhookQuotaExceeded)
	d := e.start(t, e.fastConfig())

	warning := channels.WebhookEvent{Name: channels.WebhookQuotaWarning, AccountID: "acc_1", Quota: "max_messages_per_day",
		Threshold: 80, Period: "2026-12-06T00:00:00Z", Limit: 10, Used: 8}
	exceeded := warning
	exceeded.Name, exceeded.Threshold, exceeded.Used = channels.WebhookQuotaExceeded, 100, 10
	for _, ev := range []channels.WebhookEvent{warning, warning, exceeded} {
		id := "quota:acc_1:" + string(ev.Name)
		if err := webhookevents.PublishOperator(ctx, e.js, "acc_1", time.Now().UnixMilli(), ev, id); err != nil {
			t.Fatal(err)
		}
	}
	e.publish(t, occupied("news"))

	both.WaitEvents(2)
	exceededOnly.WaitEvents(1)
	appReceiver.WaitEvents(1)
	time.Sleep(300 * time.Millisecond) // time for anything extra to arrive
	if got := both.Events(); len(got) != 2 || got[0].Name != "quota_warning" || got[1].Name != "quota_exceeded" {
		t.Fatalf("operator endpoint got %+v", got)
	}
	if got := exceededOnly.Events(); len(got) != 1 || got[0].Name != "quota_exceeded" {
		t.Fatalf("quota_exceeded endpoint got %+v", got)
	}
	if got := appReceiver.Events(); len(got) != 1 || got[0].Name != "channel_occupied" {
		t.Fatalf("app endpoint got %+v", got)
	}
	if body := both.Requests()[0].Body; !strings.Contains(body, `"account_id":"acc_1"`) || strings.Contains(body, `"channel"`) {
		t.Errorf("operator body %s", body)
	}

	list, err := e.store.ListOperatorWebhookEndpoints(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("operator endpoints %+v, %v", list, err)
	}
	res, err := d.TestOperator(ctx, list[0].ID)
	if err != nil || !res.OK {
		t.Fatalf("test request = %+v, %v", res, err)
	}
	if _, err := d.TestOperator(ctx, "wh_nope"); err == nil {
		t.Fatal("test of an unknown operator endpoint: no error")
	}
}
