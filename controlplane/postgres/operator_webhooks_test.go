package postgres_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func (f *fixture) operatorWebhook(tb testing.TB) controlplane.NewOperatorWebhookEndpoint {
	tb.Helper()
	w, err := f.store.CreateOperatorWebhookEndpoint(context.Background(), controlplane.NewWebhookEndpoint{
		URL: "https://ops.example.com/hook", Events: channels.OperatorWebhookEventNames(), Enabled: true,
		Headers: map[string]string{"Authorization": "x"},
	})
	if err != nil {
		tb.Fatalf("create operator webhook: %v", err)
	}
	return w
}

func TestOperatorWebhookEndpointCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1")
	app := f.webhook(t, "a1", controlplane.NewWebhookEndpoint{Enabled: true})
	w := f.operatorWebhook(t)
	if w.ID == "" || w.AppID != "" || w.Key == "" || len(w.Secret) < 32 || !w.Enabled || w.Headers["Authorization"] != "x" ||
		!slices.Equal(w.Events, channels.OperatorWebhookEventNames()) {
		t.Fatalf("created %+v", w)
	}
	// The secret is stored sealed, never in clear.
	var sealed []byte
	if err := f.pool.QueryRow(ctx, "select sealed_secret from webhook_endpoints where id = $1", w.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(w.Secret)) {
		t.Fatal("secret stored in clear")
	}
	key, secret, err := f.store.OperatorWebhookSigner(ctx, w.ID)
	if err != nil || key != w.Key || secret != w.Secret {
		t.Fatalf("signer = %q, %v", key, err)
	}
	if _, _, err := f.store.OperatorWebhookSigner(ctx, app.ID); err == nil {
		t.Fatal("an app endpoint has an operator signer")
	}

	// Operator and app endpoints do not reach each other.
	if _, err := f.store.GetWebhookEndpoint(ctx, "a1", w.ID); err == nil {
		t.Fatal("an app reads the operator endpoint")
	}
	if _, err := f.store.GetOperatorWebhookEndpoint(ctx, app.ID); err == nil {
		t.Fatal("the operator routes read an app endpoint")
	} else {
		wantError(t, err, channels.CodeNotFound, "")
	}
	if err := f.store.DeleteOperatorWebhookEndpoint(ctx, app.ID); err == nil {
		t.Fatal("the operator routes delete an app endpoint")
	}
	got, err := f.store.GetOperatorWebhookEndpoint(ctx, w.ID)
	if err != nil || got.ID != w.ID || got.Key != w.Key {
		t.Fatalf("get = %+v, %v", got, err)
	}
	list, err := f.store.ListOperatorWebhookEndpoints(ctx)
	if err != nil || len(list) != 1 || list[0].ID != w.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if l, _ := f.store.ListWebhookEndpoints(ctx, "a1"); len(l) != 1 || l[0].ID != app.ID {
		t.Fatalf("the app's list = %+v", l)
	}

	off := false
	up, err := f.store.UpdateOperatorWebhookEndpoint(ctx, w.ID, controlplane.WebhookEndpointPatch{Enabled: &off})
	if err != nil || up.Enabled || up.Key != w.Key {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if targets, err := f.store.OperatorWebhookTargets(ctx); err != nil || len(targets) != 0 {
		t.Fatalf("targets with the endpoint disabled = %+v, %v", targets, err)
	}
	on := true
	if _, err := f.store.UpdateOperatorWebhookEndpoint(ctx, w.ID, controlplane.WebhookEndpointPatch{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	targets, err := f.store.OperatorWebhookTargets(ctx)
	if err != nil || len(targets) != 1 || targets[0].ID != w.ID {
		t.Fatalf("targets = %+v, %v", targets, err)
	}
	if err := f.store.DeleteOperatorWebhookEndpoint(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetOperatorWebhookEndpoint(ctx, w.ID); err == nil {
		t.Fatal("deleted operator endpoint still there")
	}
}

// TestOperatorWebhookDeliveries: an operator endpoint's events go
// through the queue, deliveries and log of app endpoints.
func TestOperatorWebhookDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	w := f.operatorWebhook(t)
	ev := []byte(`{"name":"quota_warning","account_id":"acc1"}`)
	if err := f.store.EnqueueWebhookEvents(ctx, []controlplane.WebhookQueued{{EndpointID: w.ID, StreamSeq: 7, Event: ev}}); err != nil {
		t.Fatal(err)
	}
	ids, err := f.store.ClaimWebhookEndpoints(ctx, "cp1", time.Minute, 10, time.Second, anyFloor)
	if err != nil || !slices.Equal(ids, []string{w.ID}) {
		t.Fatalf("claim = %v, %v", ids, err)
	}
	d, ok := f.next(t, w.ID, "cp1", 1)
	if !ok || d.AppID != "" || d.URL != w.URL || !bytes.Contains(d.Body, ev) {
		t.Fatalf("delivery %+v, %v", d, ok)
	}
	res, err := f.store.RecordWebhookAttempt(ctx, controlplane.WebhookAttempt{DeliveryID: d.ID, EndpointID: w.ID,
		StatusCode: 200, Status: controlplane.WebhookDelivered})
	if err != nil || res.AppID != "" || res.Disabled {
		t.Fatalf("record = %+v, %v", res, err)
	}
	log, _, err := f.store.ListOperatorWebhookDeliveries(ctx, controlplane.WebhookDeliveryQuery{EndpointID: w.ID})
	if err != nil || len(log) != 1 || log[0].ID != d.ID || log[0].Status != controlplane.WebhookDelivered {
		t.Fatalf("log = %+v, %v", log, err)
	}
	if err := f.store.RedeliverWebhook(ctx, "a1", w.ID, d.ID); err == nil {
		t.Fatal("an app route redelivers an operator delivery")
	}
	if err := f.store.RedeliverOperatorWebhook(ctx, w.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if re, ok := f.next(t, w.ID, "cp1", 1); !ok || re.ID != d.ID || !re.Due {
		t.Fatalf("redelivery %+v, %v", re, ok)
	}
}
