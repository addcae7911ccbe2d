package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestAdminCLIOperatorWebhooks(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	var w controlplane.NewOperatorWebhookEndpoint
	c.okJSON(t, &w, "webhooks", "operator", "add", "https://93.184.215.14/ops", "--header", "Authorization=Bearer abc")
	if w.ID == "" || w.Key == "" || w.Secret == "" || !w.Enabled || w.Headers["Authorization"] != "Bearer abc" ||
		!slices.Equal(w.Events, channels.OperatorWebhookEventNames()) {
		t.Fatalf("added %+v", w)
	}
	if r := c.ok(t, "webhooks", "operator", "add", "https://93.184.215.14/two", "--events", "quota_exceeded"); !strings.Contains(r.stdout, "SECRET") {
		t.Errorf("add table shows no secret:\n%s", r.stdout)
	}
	if r := c.ok(t, "webhooks", "operator", "list"); !strings.Contains(r.stdout, w.ID) || !strings.Contains(r.stdout, w.Key) ||
		strings.Contains(r.stdout, w.Secret) {
		t.Errorf("list table:\n%s", r.stdout)
	}
	var got controlplane.WebhookEndpoint
	c.okJSON(t, &got, "webhooks", "operator", "update", w.ID, "--enabled", "false", "--events", "quota_warning")
	if got.Enabled || !slices.Equal(got.Events, []channels.WebhookEventName{channels.WebhookQuotaWarning}) {
		t.Fatalf("updated %+v", got)
	}
	c.okJSON(t, &got, "webhooks", "operator", "get", w.ID)
	if got.ID != w.ID || got.Key != w.Key || got.Enabled {
		t.Fatalf("get %+v", got)
	}
	if r := c.ok(t, "webhooks", "operator", "deliveries", w.ID); !strings.Contains(r.stdout, "ATTEMPTS") {
		t.Errorf("deliveries table:\n%s", r.stdout)
	}
	if r := c.run("webhooks", "operator", "redeliver", w.ID, "whd_nope"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("redeliver unknown: exit %d, %q", r.code, r.stderr)
	}
	// This server runs no dispatcher.
	if r := c.run("webhooks", "operator", "test", w.ID); r.code != 1 {
		t.Errorf("test without a dispatcher: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run("webhooks", "operator", "add", "https://93.184.215.14/", "--events", "channel_occupied"); r.code != 1 ||
		!strings.Contains(r.stderr, "events") {
		t.Errorf("app event on an operator endpoint: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run("webhooks", "operator", "add", "https://93.184.215.14/", "--batch", "true"); r.code != 2 {
		t.Errorf("--batch on an operator endpoint: exit %d", r.code)
	}
	if r := c.run("webhooks", "operator", "add"); r.code != 2 {
		t.Errorf("add without a URL: exit %d", r.code)
	}
	if r := c.ok(t, "webhooks", "operator", "remove", w.ID); !strings.Contains(r.stdout, "removed operator webhook "+w.ID) {
		t.Errorf("remove: %q", r.stdout)
	}
	if r := c.run("webhooks", "operator", "get", w.ID); r.code != 1 {
		t.Errorf("get removed: exit %d", r.code)
	}
}
