package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testinfra"
)

// queued counts an endpoint's events waiting to be cut.
func (f *fixture) queued(tb testing.TB, endpointID string) int {
	tb.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(),
		"select count(*) from webhook_queue where endpoint_id = $1 and cut_at is null", endpointID).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// bodyChannels reads the channels of a stored delivery body, in order.
func (f *fixture) bodyChannels(tb testing.TB, deliveryID string) []string {
	tb.Helper()
	var raw []byte
	if err := f.pool.QueryRow(context.Background(), "select body from webhook_deliveries where id = $1", deliveryID).
		Scan(&raw); err != nil {
		tb.Fatal(err)
	}
	var body struct {
		TimeMS int64                   `json:"time_ms"`
		Events []channels.WebhookEvent `json:"events"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.TimeMS == 0 {
		tb.Fatalf("body %s: %v", raw, err)
	}
	out := make([]string, len(body.Events))
	for i, e := range body.Events {
		out[i] = e.Channel
	}
	return out
}

// Disabling an endpoint loses nothing it had queued: its pending delivery
// and each queued event become failed deliveries that say why, in stream
// order; an event stored while it is disabled is not queued; once it is
// enabled again each failed delivery can be redelivered, and goes out in
// its place in the order of creation.
func TestWebhookDisableRecordsQueuedEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	var evs []controlplane.WebhookQueued
	for i := range 4 {
		evs = append(evs, controlplane.WebhookQueued{EndpointID: w.ID, StreamSeq: uint64(i + 1),
			Event: event("channel_occupied", fmt.Sprintf("c%d", i+1))})
	}
	// 4 waits above 3 for an event still in flight.
	if err := f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{evs[0], evs[3], evs[2]}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, anyFloor); len(ids) != 1 {
		t.Fatal("not claimed")
	}
	inFlight, ok := f.next(t, w.ID, "cp1", 1)
	if !ok {
		t.Fatal("no delivery")
	}

	off, on := false, true
	if _, err := f.store.UpdateWebhookEndpoint(ctx, "a1", w.ID, controlplane.WebhookEndpointPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	log := f.deliveryLog(t, "a1", w.ID)
	if len(log) != 3 {
		t.Fatalf("delivery log after disabling: %d deliveries, want 3 (the in-flight one and 2 queued events)", len(log))
	}
	slices.Reverse(log) // oldest first
	for i, d := range log {
		if d.Status != controlplane.WebhookFailed || d.LastError == nil || *d.LastError != "endpoint disabled" ||
			d.NextAttemptAt != nil || d.EventCount != 1 {
			t.Errorf("delivery %d: %+v", i, d)
		}
	}
	if log[0].ID != inFlight.ID || log[1].Attempts != 0 {
		t.Errorf("log %+v", log)
	}
	for i, want := range []string{"c1", "c3", "c4"} {
		if got := f.bodyChannels(t, log[i].ID); !slices.Equal(got, []string{want}) {
			t.Errorf("delivery %d carries %v, want %s", i, got, want)
		}
	}
	if n := f.queued(t, w.ID); n != 0 {
		t.Errorf("%d events still queued", n)
	}

	// The request in flight when the endpoint was disabled succeeded.
	if _, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: inFlight.ID, EndpointID: w.ID,
		StatusCode: 200, Status: controlplane.WebhookDelivered}); err != nil {
		t.Fatal(err)
	}
	if d := f.deliveryLog(t, "a1", w.ID)[2]; d.Status != controlplane.WebhookDelivered || d.DeliveredAt == nil || d.LastError != nil {
		t.Errorf("the in-flight delivery answered 200: %+v", d)
	}
	if err := f.store.ReleaseWebhookEndpoint(ctx, w.ID, "cp1"); err != nil {
		t.Fatal(err)
	}

	// Stored while the endpoint is disabled (the event in flight): not
	// queued, not logged.
	if err := f.store.EnqueueWebhookEvents(ctx, evs[1:2]); err != nil {
		t.Fatal(err)
	}
	if n := f.queued(t, w.ID); n != 0 || len(f.deliveryLog(t, "a1", w.ID)) != 3 {
		t.Errorf("an event stored while disabled: %d queued", n)
	}
	// Nothing is sent to a disabled endpoint, redeliveries included.
	err := f.store.RedeliverWebhook(ctx, "a1", w.ID, log[1].ID)
	wantError(t, err, channels.CodeConflict, "")

	if _, err := f.store.UpdateWebhookEndpoint(ctx, "a1", w.ID, controlplane.WebhookEndpointPatch{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, anyFloor); len(ids) != 0 {
		t.Fatalf("re-enabled with nothing redelivered, claimed: %v", ids)
	}
	for _, d := range []controlplane.WebhookDelivery{log[2], log[1]} {
		if err := f.store.RedeliverWebhook(ctx, "a1", w.ID, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp2", time.Minute, 10, 0, anyFloor); len(ids) != 1 {
		t.Fatal("redeliveries not claimable")
	}
	for _, want := range log[1:] {
		s, ok := f.next(t, w.ID, "cp2", 1)
		if !ok || s.ID != want.ID || !s.Due || s.Attempts != 0 {
			t.Fatalf("next = %+v, %v; want %s", s, ok, want.ID)
		}
		if _, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: s.ID, EndpointID: w.ID,
			StatusCode: 204, Status: controlplane.WebhookDelivered}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range f.deliveryLog(t, "a1", w.ID) {
		if d.Status != controlplane.WebhookDelivered {
			t.Errorf("delivery %s is %s", d.ID, d.Status)
		}
	}
}

// A batch endpoint's queued events are recorded in batches, as they would
// have been sent.
func TestWebhookDisableRecordsBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true, Batch: true})
	const n = controlplane.MaxWebhookBatch*12 + 7
	var evs []controlplane.WebhookQueued
	for i := range n {
		evs = append(evs, controlplane.WebhookQueued{EndpointID: w.ID, StreamSeq: uint64(i + 1),
			Event: event("channel_occupied", fmt.Sprintf("c%04d", i))})
	}
	if err := f.store.EnqueueWebhookEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := f.store.UpdateWebhookEndpoint(ctx, "a1", w.ID, controlplane.WebhookEndpointPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	log := f.deliveryLog(t, "a1", w.ID)
	slices.Reverse(log)
	if len(log) != 13 {
		t.Fatalf("%d deliveries, want 13", len(log))
	}
	next := 0
	for i, d := range log {
		chans := f.bodyChannels(t, d.ID)
		want := min(controlplane.MaxWebhookBatch, n-next)
		if d.EventCount != want || len(chans) != want || chans[0] != fmt.Sprintf("c%04d", next) ||
			d.Status != controlplane.WebhookFailed {
			t.Fatalf("delivery %d: %+v, channels %v…", i, d, chans[:1])
		}
		next += want
	}
}

// An event stored while a disable is under way waits for it, and then is
// not queued: the disable records every event queued before it, and none
// comes after it.
func TestWebhookEnqueueWaitsForADisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// What UpdateWebhookEndpoint does first when it disables.
	if _, err := tx.Exec(ctx, "select 1 from webhook_endpoints where id = $1 for update", w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "update webhook_endpoints set enabled = false where id = $1", w.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{
			{EndpointID: w.ID, StreamSeq: 1, Event: event("channel_occupied", "a")}})
	}()
	testinfra.WaitUntil(t, "the enqueue waits for the disable", func() bool {
		var waiting bool
		_ = f.pool.QueryRow(ctx, `select exists (select 1 from pg_stat_activity
			where datname = current_database() and wait_event_type = 'Lock'
			  and query like '%insert into webhook_queue%')`).Scan(&waiting)
		return waiting
	})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.queued(t, w.ID); n != 0 {
		t.Fatalf("an event stored after the disable is queued (%d)", n)
	}
}

// deliveryLog is an endpoint's whole delivery log, newest first.
func (f *fixture) deliveryLog(tb testing.TB, appID, endpointID string) []controlplane.WebhookDelivery {
	tb.Helper()
	items, _, err := f.store.ListWebhookDeliveries(context.Background(), controlplane.WebhookDeliveryQuery{
		AppID: appID, EndpointID: endpointID, Page: controlplane.Page{Limit: controlplane.MaxPageLimit}})
	if err != nil {
		tb.Fatal(err)
	}
	return items
}

// An attempt recorded while a disable holds its endpoint waits for it
// without holding its delivery, which the disable changes: the two do not
// deadlock.
func TestWebhookAttemptAndDisableDoNotDeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	w := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	if err := f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{
		{EndpointID: w.ID, StreamSeq: 1, Event: event("channel_occupied", "a")}}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, anyFloor); len(ids) != 1 {
		t.Fatal("not claimed")
	}
	d, _ := f.next(t, w.ID, "cp1", 1)
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// A disable holds the endpoint…
	if _, err := tx.Exec(ctx, "select 1 from webhook_endpoints where id = $1 for update", w.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d.ID, EndpointID: w.ID,
			StatusCode: 503, Status: controlplane.WebhookPending, RetryIn: time.Second})
		done <- err
	}()
	testinfra.WaitUntil(t, "the attempt waits for the endpoint", func() bool {
		var waiting bool
		_ = f.pool.QueryRow(ctx, `select exists (select 1 from pg_stat_activity
			where datname = current_database() and wait_event_type = 'Lock'
			  and query like '%update webhook_endpoints set last_request_at%')`).Scan(&waiting)
		return waiting
	})
	// …and fails its pending deliveries.
	if _, err := tx.Exec(ctx, "update webhook_deliveries set status = 'failed' where id = $1", d.ID); err != nil {
		t.Fatalf("the disable: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the attempt: %v", err)
	}
}

// An automatic disable records the first thousand events of a long
// backlog with it; SettleDisabledWebhookEndpoints records the rest while
// the endpoint stays disabled, and leaves them to be sent once it is
// enabled again.
func TestWebhookAutoDisableRecordsALongBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	const n = 1500
	disable := func(w controlplane.WebhookEndpoint) {
		t.Helper()
		var evs []controlplane.WebhookQueued
		for i := range n {
			evs = append(evs, controlplane.WebhookQueued{EndpointID: w.ID, StreamSeq: uint64(i + 1),
				Event: event("channel_occupied", fmt.Sprintf("c%04d", i))})
		}
		if err := f.store.EnqueueWebhookEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, anyFloor); len(ids) != 1 {
			t.Fatal("not claimed")
		}
		d, _ := f.next(t, w.ID, "cp1", 1)
		_, _ = f.pool.Exec(ctx, "update webhook_endpoints set failing_since = now() - interval '2 hours' where id = $1", w.ID)
		res, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d.ID, EndpointID: w.ID,
			StatusCode: 503, Status: controlplane.WebhookPending, RetryIn: time.Second, DisableAfter: time.Hour})
		if err != nil || !res.Disabled {
			t.Fatalf("attempt = %+v, %v", res, err)
		}
		if got, _ := f.deliveryCounts(t, w.ID); got != 1+postgres.UnsentChunk {
			t.Fatalf("%d deliveries after the disable, want %d", got, 1+postgres.UnsentChunk)
		}
	}
	stays := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	disable(stays)
	back := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	disable(back)
	on := true
	if _, err := f.store.UpdateWebhookEndpoint(ctx, "a1", back.ID, controlplane.WebhookEndpointPatch{Enabled: &on}); err != nil {
		t.Fatal(err)
	}

	if err := f.store.SettleDisabledWebhookEndpoints(ctx); err != nil {
		t.Fatal(err)
	}
	all, failed := f.deliveryCounts(t, stays.ID)
	if all != n || failed != n || f.queued(t, stays.ID) != 0 {
		t.Fatalf("%d deliveries (%d failed as disabled), %d queued; want %d, %d, 0", all, failed, f.queued(t, stays.ID), n, n)
	}
	if got := f.bodyChannels(t, f.deliveryLog(t, "a1", stays.ID)[0].ID); !slices.Equal(got, []string{fmt.Sprintf("c%04d", n-1)}) {
		t.Errorf("newest delivery carries %v", got)
	}
	// Enabled again first: the rest is sent, from where the disable
	// stopped.
	if q := f.queued(t, back.ID); q != n-1-postgres.UnsentChunk {
		t.Fatalf("%d queued for the re-enabled endpoint", q)
	}
	if err := f.store.ReleaseWebhookEndpoint(ctx, back.ID, "cp1"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, 0, anyFloor); !slices.Equal(ids, []string{back.ID}) {
		t.Fatalf("claimed %v", ids)
	}
	s, _ := f.next(t, back.ID, "cp1", 1)
	if got := f.bodyChannels(t, s.ID); !slices.Equal(got, []string{fmt.Sprintf("c%04d", 1+postgres.UnsentChunk)}) {
		t.Errorf("first delivery after re-enabling carries %v", got)
	}
}

// deliveryCounts counts an endpoint's deliveries, and those failed by an
// automatic disable.
func (f *fixture) deliveryCounts(tb testing.TB, endpointID string) (all, autoDisabled int) {
	tb.Helper()
	err := f.pool.QueryRow(context.Background(),
		`select count(*), count(*) filter (where status = 'failed' and last_error = 'endpoint disabled: every delivery failed')
		 from webhook_deliveries where endpoint_id = $1`, endpointID).Scan(&all, &autoDisabled)
	if err != nil {
		tb.Fatal(err)
	}
	return all, autoDisabled
}
