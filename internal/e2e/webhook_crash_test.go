package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// webhookCrashAdminToken is the control planes' --admin-token.
const webhookCrashAdminToken = "webhook-crash-admin-token"

// A control plane SIGKILLed while it retries a failing endpoint loses
// nothing: after a new control plane starts (and the dead one's lease on
// the endpoint expires) every event arrives, in order per channel, and a
// delivery received twice carries the same X-Herald-Delivery and body.
// Events published while no control plane runs wait in the stream.
func TestWebhooksSurviveControlPlaneKill(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildHerald(t)
	ns := testinfra.NATS(t)
	dbURL := testinfra.Postgres(t)
	masterKey := secretbox.GenerateKey()
	testinfra.Sensitive(masterKey)
	args := []string{"controlplane", "--addr", "127.0.0.1:0", "--nats-url", ns.ClientURL(),
		"--master-key", masterKey, "--database-url", dbURL, "--admin-token", webhookCrashAdminToken,
		"--shutdown-timeout", "5s", "--webhook-allow-private", "--webhook-timeout", "1s",
		"--webhook-retry-window", "2m", "--webhook-ack-wait", "2s"}
	start := func(name string) *testenv.Proc {
		p := testenv.StartProc(t, name, bin, args...)
		p.Token = webhookCrashAdminToken
		return p
	}
	cp := start("controlplane-1")
	const app = "hookcrash"
	key, secret := newApp(t, cp, app, nil)

	var failing atomic.Bool
	failing.Store(true)
	r := testenv.NewWebhookReceiver(t, app, key, secret, func(_ int, w http.ResponseWriter) bool {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return false
		}
		return true
	})
	var w controlplane.WebhookEndpoint
	if code := cp.Admin(t, "POST", "/admin/v1/apps/"+app+"/webhooks", map[string]any{"url": r.URL}, &w); code != http.StatusCreated {
		t.Fatalf("create webhook = %d", code)
	}

	js := testinfra.JetStream(t, testinfra.NATSConn(t, ns))
	var want []channels.WebhookEvent
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			for _, ch := range []string{"a", "b"} {
				// Every event differs, so that any reordering shows.
				ev := channels.WebhookEvent{Name: channels.WebhookMemberAdded, Channel: ch, UserID: fmt.Sprintf("u%d", i)}
				if i%2 == 1 {
					ev.Name = channels.WebhookMemberRemoved
				}
				env := channels.WebhookEnvelope{AppID: app, TimeMS: time.Now().UnixMilli(), Event: ev}
				if err := webhookevents.Publish(context.Background(), js, env, ""); err != nil {
					t.Fatal(err)
				}
				want = append(want, ev)
			}
		}
	}
	publish(0, 4)

	// Mid-retry: the head delivery has failed twice.
	deliveries := func(p *testenv.Proc) []controlplane.WebhookDelivery {
		var l struct {
			Items []controlplane.WebhookDelivery
		}
		p.Admin(t, "GET", "/admin/v1/apps/"+app+"/webhooks/"+w.ID+"/deliveries?limit=500", nil, &l)
		return l.Items
	}
	testinfra.WaitUntil(t, "the head delivery retried", func() bool {
		ds := deliveries(cp)
		return len(ds) > 0 && ds[len(ds)-1].Attempts >= 2
	})
	if err := cp.Stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("control plane exited cleanly after SIGKILL")
	}
	publish(4, 6)
	failing.Store(false)
	cp2 := start("controlplane-2")

	got := r.WaitEvents(len(want))
	r.Check()
	wantBy := map[string][]string{}
	for _, e := range want {
		wantBy[e.Channel] = append(wantBy[e.Channel], testenv.WebhookEventKey(string(e.Name), e.UserID))
	}
	if g := testenv.WebhookEventsByChannel(got); fmt.Sprint(g) != fmt.Sprint(wantBy) {
		t.Fatalf("events per channel\n got %v\nwant %v", g, wantBy)
	}
	ds := deliveries(cp2)
	if len(ds) != len(want) {
		t.Fatalf("%d deliveries in the log, want %d", len(ds), len(want))
	}
	head := ds[len(ds)-1]
	if head.Attempts < 3 || head.Status != controlplane.WebhookDelivered {
		t.Errorf("head delivery %+v: want its failed attempts before the kill and the success after", head)
	}
}
