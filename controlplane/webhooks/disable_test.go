package webhooks_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/internal/testinfra"
)

// An endpoint disabled while its events wait behind a failing delivery
// keeps every one of them in its delivery log, failed with the reason;
// an event that comes while it is disabled is not for it; once it is
// enabled again, redelivering the log sends the events, in order.
func TestDisabledEndpointKeepsItsEventsForRedelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	r := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return false
	})
	w := e.endpoint(t, r.URL, false)
	e.start(t, e.fastConfig())
	want := sequence([]string{"a"}, 5)
	e.publish(t, want...)
	testinfra.WaitUntil(t, "the head retrying and the rest queued", func() bool {
		var queued int
		_ = e.pgx.QueryRow(ctx, "select count(*) from webhook_queue where endpoint_id = $1 and cut_at is null", w.ID).
			Scan(&queued)
		ds := e.deliveries(t, w.ID)
		return queued == len(want)-1 && len(ds) == 1 && ds[0].Attempts > 0
	})

	off, on := false, true
	if _, err := e.store.UpdateWebhookEndpoint(ctx, appID, w.ID, controlplane.WebhookEndpointPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	log := e.deliveries(t, w.ID)
	if len(log) != len(want) {
		t.Fatalf("delivery log of %d after disabling, want %d", len(log), len(want))
	}
	slices.Reverse(log) // oldest first
	for _, d := range log {
		if d.Status != controlplane.WebhookFailed || d.LastError == nil || *d.LastError != "endpoint disabled" {
			t.Errorf("delivery %+v", d)
		}
	}
	// While disabled: consumed, and not for this endpoint.
	e.publish(t, occupied("b"))
	waitConsumed(t, e)
	if n := len(e.deliveries(t, w.ID)); n != len(want) {
		t.Fatalf("an event that came while disabled made %d deliveries", n-len(want))
	}

	r.SetAnswer(nil)
	if _, err := e.store.UpdateWebhookEndpoint(ctx, appID, w.ID, controlplane.WebhookEndpointPatch{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	for _, d := range log {
		if err := e.store.RedeliverWebhook(ctx, appID, w.ID, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	checkOrder(t, r.WaitEvents(len(want)), want)
	r.Check()
	testinfra.WaitUntil(t, "every delivery delivered", func() bool {
		for _, d := range e.deliveries(t, w.ID) {
			if d.Status != controlplane.WebhookDelivered {
				return false
			}
		}
		return true
	})
}

// waitConsumed waits until the dispatchers have queued (and acknowledged)
// everything in the event stream.
func waitConsumed(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	s, err := e.js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := info.State.LastSeq
	testinfra.WaitUntil(t, "the stream consumed", func() bool {
		c, err := e.js.Consumer(ctx, webhookevents.Stream, webhooks.DefaultConsumer)
		if err != nil {
			return false
		}
		ci, err := c.Info(ctx)
		return err == nil && ci.AckFloor.Stream >= last
	})
}

// A dispatcher that starts records what a disabled endpoint still has
// queued (left by a control plane that stopped before it finished).
func TestDispatcherRecordsWhatADisabledEndpointLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	w := e.endpoint(t, "http://127.0.0.1:1/never", false)
	if err := e.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{
		{EndpointID: w.ID, StreamSeq: 1, Event: []byte(`{"name":"channel_occupied","channel":"a"}`)},
		{EndpointID: w.ID, StreamSeq: 2, Event: []byte(`{"name":"channel_vacated","channel":"a"}`)},
	}); err != nil {
		t.Fatal(err)
	}
	// Disabled, its queue not yet recorded.
	if _, err := e.pgx.Exec(ctx, "update webhook_endpoints set enabled = false where id = $1", w.ID); err != nil {
		t.Fatal(err)
	}
	e.start(t, e.fastConfig())
	testinfra.WaitUntil(t, "the queued events recorded", func() bool {
		ds := e.deliveries(t, w.ID)
		return len(ds) == 2 && ds[0].Status == controlplane.WebhookFailed && *ds[0].LastError == "endpoint disabled"
	})
}
