package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func (f *fixture) webhook(tb testing.TB, appID string, in controlplane.NewWebhookEndpoint) controlplane.WebhookEndpoint {
	tb.Helper()
	if in.URL == "" {
		in.URL = "https://example.com/hook"
	}
	if in.Events == nil {
		in.Events = channels.DefaultWebhookEventNames()
	}
	w, err := f.store.CreateWebhookEndpoint(context.Background(), appID, in)
	if err != nil {
		tb.Fatalf("create webhook: %v", err)
	}
	return w
}

func TestWebhookEndpointCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1", "a2")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{
		Events: []channels.WebhookEventName{channels.WebhookChannelOccupied}, Enabled: true,
		ChannelFilter: "private-*", Headers: map[string]string{"Authorization": "x"},
	})
	if w.ID == "" || w.AppID != "a1" || !w.Enabled || w.ChannelFilter != "private-*" || w.Headers["Authorization"] != "x" {
		t.Fatalf("created %+v", w)
	}
	if _, err := f.store.GetWebhookEndpoint(ctx, "a2", w.ID); err == nil {
		t.Fatal("another app reads the endpoint")
	} else {
		wantError(t, err, channels.CodeNotFound, "")
	}
	list, err := f.store.ListWebhookEndpoints(ctx, "a1")
	if err != nil || len(list) != 1 || list[0].ID != w.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := f.store.ListWebhookEndpoints(ctx, "nope"); err == nil {
		t.Fatal("list of an unknown app: no error")
	}
	batch := true
	up, err := f.store.UpdateWebhookEndpoint(ctx, "a1", w.ID, controlplane.WebhookEndpointPatch{Batch: &batch})
	if err != nil || !up.Batch || up.URL != w.URL || !up.Enabled {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if err := f.store.DeleteWebhookEndpoint(ctx, "a2", w.ID); err == nil {
		t.Fatal("another app deletes the endpoint")
	}
	if err := f.store.DeleteWebhookEndpoint(ctx, "a1", w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetWebhookEndpoint(ctx, "a1", w.ID); err == nil {
		t.Fatal("deleted endpoint still there")
	}
}

func TestWebhookEndpointLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.apps(t, "a1")
	in := controlplane.NewWebhookEndpoint{MaxEndpoints: 2, Enabled: true}
	f.webhook(t, "a1", in)
	f.webhook(t, "a1", in)
	in.URL, in.Events = "https://example.com/3", channels.DefaultWebhookEventNames()
	_, err := f.store.CreateWebhookEndpoint(context.Background(), "a1", in)
	de := wantError(t, err, channels.CodeBadRequest, "url")
	if !strings.Contains(de.Message, "max_webhook_endpoints 2") {
		t.Errorf("message %q does not name the limit", de.Message)
	}
}

func TestAppConfigWebhookEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	cfg, err := f.store.AppConfig(ctx, "a1")
	if err != nil || cfg.WebhookEvents != nil {
		t.Fatalf("no endpoints: %v, %v", cfg.WebhookEvents, err)
	}
	f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true,
		Events: []channels.WebhookEventName{channels.WebhookMemberAdded, channels.WebhookChannelOccupied}})
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true,
		Events: []channels.WebhookEventName{channels.WebhookClientEvent, channels.WebhookChannelOccupied}})
	f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: false,
		Events: []channels.WebhookEventName{channels.WebhookCacheMiss}})
	cfg, _ = f.store.AppConfig(ctx, "a1")
	want := []channels.WebhookEventName{channels.WebhookChannelOccupied, channels.WebhookMemberAdded, channels.WebhookClientEvent}
	if !slices.Equal(cfg.WebhookEvents, want) {
		t.Fatalf("events = %v, want %v", cfg.WebhookEvents, want)
	}
	off := false
	if _, err := f.store.UpdateWebhookEndpoint(ctx, "a1", w.ID, controlplane.WebhookEndpointPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	cfg, _ = f.store.AppConfig(ctx, "a1")
	if want := want[:2]; !slices.Equal(cfg.WebhookEvents, want) {
		t.Fatalf("after disabling: %v, want %v", cfg.WebhookEvents, want)
	}
}

func event(name, channel string) json.RawMessage {
	b, _ := json.Marshal(channels.WebhookEvent{Name: channels.WebhookEventName(name), Channel: channel})
	return b
}

// anyFloor lets every queued event be cut.
const anyFloor = 1 << 62

// next asks for the endpoint's next delivery as owner.
func (f *fixture) next(tb testing.TB, id, owner string, maxEvents int) (controlplane.WebhookSend, bool) {
	tb.Helper()
	s, ok, err := f.store.NextWebhookDelivery(context.Background(), controlplane.WebhookNext{
		EndpointID: id, Owner: owner, Lease: time.Minute, MaxEvents: maxEvents, MinGap: time.Second, Floor: anyFloor,
	})
	if err != nil {
		tb.Fatalf("next delivery: %v", err)
	}
	return s, ok
}

func TestWebhookDeliveryLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	k := f.key(t, "a1", "k1", "secret-one")
	f.key(t, "a1", "k2", "secret-two")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})

	key, secret, err := f.store.WebhookSigner(ctx, "a1")
	if err != nil || key != k.Key.Key || secret != "secret-one" {
		t.Fatalf("signer = %q, %v", key, err)
	}

	// Nothing queued: nothing to claim.
	if ids, err := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, time.Second, anyFloor); err != nil || len(ids) != 0 {
		t.Fatalf("claim with nothing queued = %v, %v", ids, err)
	}
	evs := []controlplane.WebhookQueued{
		{EndpointID: w.ID, StreamSeq: 1, Event: event("channel_occupied", "a")},
		{EndpointID: w.ID, StreamSeq: 2, Event: event("channel_vacated", "a")},
		{EndpointID: w.ID, StreamSeq: 1, Event: event("channel_occupied", "a")}, // delivered again
		{EndpointID: "wh_gone", StreamSeq: 3, Event: event("channel_occupied", "a")},
	}
	if err := f.store.EnqueueWebhookEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	ids, err := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, time.Second, anyFloor)
	if err != nil || !slices.Equal(ids, []string{w.ID}) {
		t.Fatalf("claim = %v, %v", ids, err)
	}
	if again, _ := f.store.ClaimWebhookEndpoints(ctx, "cp2", time.Minute, 10, time.Second, anyFloor); len(again) != 0 {
		t.Fatalf("a held endpoint claimed again: %v", again)
	}
	if _, _, err := f.store.NextWebhookDelivery(ctx, controlplane.WebhookNext{EndpointID: w.ID, Owner: "cp2",
		Lease: time.Minute, MaxEvents: 1}); !errors.Is(err, controlplane.ErrWebhookLeaseLost) {
		t.Fatalf("next by a non-holder: %v", err)
	}

	d1, ok := f.next(t, w.ID, "cp1", 1)
	if !ok || !d1.Due || d1.Attempts != 0 || d1.AppID != "a1" || d1.URL != w.URL {
		t.Fatalf("first delivery %+v, %v", d1, ok)
	}
	var body struct {
		TimeMS int64                   `json:"time_ms"`
		Events []channels.WebhookEvent `json:"events"`
	}
	if err := json.Unmarshal(d1.Body, &body); err != nil || len(body.Events) != 1 || body.Events[0].Name != "channel_occupied" || body.TimeMS == 0 {
		t.Fatalf("body %s: %v", d1.Body, err)
	}
	// The head stays the head until it is settled.
	if again, _ := f.next(t, w.ID, "cp1", 1); again.ID != d1.ID || string(again.Body) != string(d1.Body) {
		t.Fatalf("head changed: %+v", again)
	}
	// A failure scheduled later holds the endpoint's later events back.
	if _, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d1.ID, EndpointID: w.ID,
		StatusCode: 500, Error: "status 500", Status: controlplane.WebhookPending, RetryIn: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if head, ok := f.next(t, w.ID, "cp1", 1); !ok || head.ID != d1.ID || head.Due || head.Attempts != 1 {
		t.Fatalf("retrying head: %+v %v", head, ok)
	}
	if _, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d1.ID, EndpointID: w.ID,
		StatusCode: 200, Status: controlplane.WebhookDelivered}); err != nil {
		t.Fatal(err)
	}
	d2, ok := f.next(t, w.ID, "cp1", 1)
	if !ok || d2.ID == d1.ID || !json.Valid(d2.Body) || !strings.Contains(string(d2.Body), `{"time_ms":`) {
		t.Fatalf("second delivery %+v", d2)
	}
	if _, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d2.ID, EndpointID: w.ID,
		Error: "connection refused", Status: controlplane.WebhookFailed}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.next(t, w.ID, "cp1", 1); ok {
		t.Fatal("a delivery left after the queue emptied")
	}
	// The stream delivering a message again after its event was cut
	// queues nothing, until the cut rows are pruned.
	if err := f.store.EnqueueWebhookEvents(ctx, evs[:1]); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.next(t, w.ID, "cp1", 1); ok {
		t.Fatal("an event delivered twice by the stream was queued twice")
	}
	if n, err := f.store.PruneWebhookQueue(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune queue = %d, %v", n, err)
	}
	if err := f.store.ReleaseWebhookEndpoint(ctx, w.ID, "cp1"); err != nil {
		t.Fatal(err)
	}

	all, next, err := f.store.ListWebhookDeliveries(ctx, controlplane.WebhookDeliveryQuery{AppID: "a1", EndpointID: w.ID,
		Page: controlplane.Page{Limit: 1}})
	if err != nil || len(all) != 1 || all[0].ID != d2.ID || next == "" || all[0].Status != controlplane.WebhookFailed ||
		all[0].LastError == nil || *all[0].LastError != "connection refused" {
		t.Fatalf("page 1 = %+v, %q, %v", all, next, err)
	}
	all, next, err = f.store.ListWebhookDeliveries(ctx, controlplane.WebhookDeliveryQuery{AppID: "a1", EndpointID: w.ID,
		Page: controlplane.Page{Limit: 1, Cursor: next}})
	if err != nil || len(all) != 1 || all[0].ID != d1.ID || next != "" || all[0].Attempts != 2 ||
		all[0].Status != controlplane.WebhookDelivered || all[0].DeliveredAt == nil || *all[0].LastStatusCode != 200 {
		t.Fatalf("page 2 = %+v, %q, %v", all, next, err)
	}
	failed, _, _ := f.store.ListWebhookDeliveries(ctx, controlplane.WebhookDeliveryQuery{AppID: "a1", EndpointID: w.ID,
		Status: controlplane.WebhookFailed})
	if len(failed) != 1 || failed[0].ID != d2.ID {
		t.Fatalf("failed = %+v", failed)
	}
	var attempts int
	_ = f.pool.QueryRow(ctx, "select count(*) from webhook_attempts").Scan(&attempts)
	if attempts != 3 {
		t.Errorf("attempt log has %d rows, want 3", attempts)
	}

	// Redelivery: same id and body, pending again, claimable.
	if err := f.store.RedeliverWebhook(ctx, "a1", w.ID, d1.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RedeliverWebhook(ctx, "a1", w.ID, "whd_nope"); err == nil {
		t.Fatal("redeliver of an unknown delivery: no error")
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp2", time.Minute, 10, 0, anyFloor); len(ids) != 1 {
		t.Fatalf("redelivery not claimable: %v", ids)
	}
	if re, ok := f.next(t, w.ID, "cp2", 1); !ok || re.ID != d1.ID || string(re.Body) != string(d1.Body) || !re.Due {
		t.Fatalf("redelivery %+v", re)
	}

	// Pruning removes finished deliveries only.
	n, err := f.store.PruneWebhookDeliveries(ctx, time.Now().Add(time.Hour), 100)
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v (want the failed one)", n, err)
	}
}

func TestWebhookBatchCut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true, Batch: true})
	var evs []controlplane.WebhookQueued
	for i := range 150 {
		evs = append(evs, controlplane.WebhookQueued{EndpointID: w.ID, StreamSeq: uint64(i + 1),
			Event: event("channel_occupied", fmt.Sprintf("c%03d", i))})
	}
	if err := f.store.EnqueueWebhookEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, time.Second, anyFloor); len(ids) != 1 {
		t.Fatal("not claimed")
	}
	d, ok := f.next(t, w.ID, "cp1", controlplane.MaxWebhookBatch)
	var body struct {
		Events []channels.WebhookEvent `json:"events"`
	}
	if !ok || json.Unmarshal(d.Body, &body) != nil || len(body.Events) != 100 || body.Events[0].Channel != "c000" || body.Events[99].Channel != "c099" {
		t.Fatalf("batch of %d events", len(body.Events))
	}
	if _, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d.ID, EndpointID: w.ID,
		StatusCode: 204, Status: controlplane.WebhookDelivered}); err != nil {
		t.Fatal(err)
	}
	// Within a second of the last request: no next batch yet.
	if s, ok := f.next(t, w.ID, "cp1", controlplane.MaxWebhookBatch); ok || s.WaitFor <= 0 || s.WaitFor > time.Second {
		t.Fatalf("within the minimum gap: delivery %v, wait %s", ok, s.WaitFor)
	}
	_, _ = f.pool.Exec(ctx, "update webhook_endpoints set last_request_at = now() - interval '2 seconds'")
	d, ok = f.next(t, w.ID, "cp1", controlplane.MaxWebhookBatch)
	if !ok || json.Unmarshal(d.Body, &body) != nil || len(body.Events) != 50 || body.Events[0].Channel != "c100" {
		t.Fatalf("second batch of %d events", len(body.Events))
	}
}

func TestWebhookAutoDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	_ = f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{
		{EndpointID: w.ID, StreamSeq: 1, Event: event("channel_occupied", "a")},
		{EndpointID: w.ID, StreamSeq: 2, Event: event("channel_vacated", "a")},
	})
	_, _ = f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, anyFloor)
	d, _ := f.next(t, w.ID, "cp1", 1)
	fail := controlplane.WebhookAttempt{DeliveryID: d.ID, EndpointID: w.ID, StatusCode: 503,
		Status: controlplane.WebhookPending, DisableAfter: time.Hour}
	if res, err := f.store.RecordWebhookAttempt(ctx, fail); err != nil || res.Disabled {
		t.Fatalf("first failure disabled: %+v, %v", res, err)
	}
	_, _ = f.pool.Exec(ctx, "update webhook_endpoints set failing_since = now() - interval '2 hours'")
	res, err := f.store.RecordWebhookAttempt(ctx, fail)
	if err != nil || !res.Disabled || res.AppID != "a1" {
		t.Fatalf("failing for 2 h: %+v, %v", res, err)
	}
	got, _ := f.store.GetWebhookEndpoint(ctx, "a1", w.ID)
	if got.Enabled || got.DisabledAt == nil {
		t.Fatalf("endpoint %+v", got)
	}
	pending, _, _ := f.store.ListWebhookDeliveries(ctx, controlplane.WebhookDeliveryQuery{AppID: "a1", EndpointID: w.ID,
		Status: controlplane.WebhookPending})
	var queued int
	_ = f.pool.QueryRow(ctx, "select count(*) from webhook_queue where cut_at is null").Scan(&queued)
	if len(pending) != 0 || queued != 0 {
		t.Fatalf("after disabling: %d pending, %d queued", len(pending), queued)
	}
	// The head delivery and the queued event are in the log, failed.
	log := f.deliveryLog(t, "a1", w.ID)
	if len(log) != 2 {
		t.Fatalf("delivery log of %d, want 2", len(log))
	}
	for _, d := range log {
		if d.Status != controlplane.WebhookFailed || d.LastError == nil || *d.LastError != "endpoint disabled: every delivery failed" {
			t.Errorf("delivery %+v", d)
		}
	}
	on := true
	got, err = f.store.UpdateWebhookEndpoint(ctx, "a1", w.ID, controlplane.WebhookEndpointPatch{Enabled: &on})
	if err != nil || !got.Enabled || got.DisabledAt != nil || got.FailingSince != nil {
		t.Fatalf("re-enabled: %+v, %v", got, err)
	}
}

// Queued events are cut in stream order and only up to the floor: an
// event queued late (a control plane that died before queuing it, its
// message delivered again) still goes out before later ones.
func TestWebhookCutFollowsTheStreamUpToTheFloor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true, Batch: true})
	q := func(seq uint64) controlplane.WebhookQueued {
		return controlplane.WebhookQueued{EndpointID: w.ID, StreamSeq: seq, Event: event("channel_occupied", fmt.Sprintf("c%d", seq))}
	}
	// 3 and 4 are queued first; 2 is still in flight.
	if err := f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{q(3), q(4)}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, 1); len(ids) != 0 {
		t.Fatalf("claimed with nothing at or below the floor: %v", ids)
	}
	if err := f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{q(2)}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, 3); len(ids) != 1 {
		t.Fatal("not claimed")
	}
	s, ok, err := f.store.NextWebhookDelivery(ctx, controlplane.WebhookNext{EndpointID: w.ID, Owner: "cp1",
		Lease: time.Minute, MaxEvents: controlplane.MaxWebhookBatch, Floor: 3})
	var body struct {
		Events []channels.WebhookEvent `json:"events"`
	}
	if err != nil || !ok || json.Unmarshal(s.Body, &body) != nil || len(body.Events) != 2 ||
		body.Events[0].Channel != "c2" || body.Events[1].Channel != "c3" {
		t.Fatalf("cut up to floor 3: %s, %v, %v", s.Body, ok, err)
	}
}
