package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestAdminCLIWebhooks(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	var acct controlplane.Account
	c.okJSON(t, &acct, "accounts", "create", "--name", "Acme")
	c.ok(t, "apps", "create", "--account", acct.ID, "--name", "web", "--id", "web-1")

	var w controlplane.WebhookEndpoint
	c.okJSON(t, &w, "webhooks", "create", "web-1", "https://93.184.215.14/hook",
		"--events", "channel_occupied, member_added", "--batch", "true", "--channel-filter", "presence-*",
		"--header", "Authorization=Bearer abc")
	if !w.Batch || !w.Enabled || w.ChannelFilter != "presence-*" || w.Headers["Authorization"] != "Bearer abc" ||
		!slices.Equal(w.Events, []channels.WebhookEventName{channels.WebhookChannelOccupied, channels.WebhookMemberAdded}) {
		t.Fatalf("created %+v", w)
	}
	if r := c.ok(t, "webhooks", "list", "web-1"); !strings.Contains(r.stdout, w.ID) || !strings.Contains(r.stdout, "EVENTS") {
		t.Errorf("list table:\n%s", r.stdout)
	}
	c.okJSON(t, &w, "webhooks", "update", "web-1", w.ID, "--enabled", "false", "--events", "client_event",
		"--endpoint", "https://93.184.215.14/moved")
	if w.Enabled || w.URL != "https://93.184.215.14/moved" || !w.Batch || !slices.Equal(w.Events, []channels.WebhookEventName{channels.WebhookClientEvent}) {
		t.Fatalf("updated %+v", w)
	}
	c.okJSON(t, &w, "webhooks", "get", "web-1", w.ID)
	if w.Enabled {
		t.Fatalf("get %+v", w)
	}
	var ds jsonPage[controlplane.WebhookDelivery]
	c.okJSON(t, &ds, "webhooks", "deliveries", "web-1", w.ID, "--status", "failed")
	if len(ds.Items) != 0 {
		t.Fatalf("deliveries %+v", ds)
	}
	if r := c.ok(t, "webhooks", "deliveries", "web-1", w.ID); !strings.Contains(r.stdout, "ATTEMPTS") {
		t.Errorf("deliveries table:\n%s", r.stdout)
	}
	if r := c.run("webhooks", "redeliver", "web-1", w.ID, "whd_nope"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("redeliver unknown: exit %d, %q", r.code, r.stderr)
	}
	// This server runs no dispatcher.
	if r := c.run("webhooks", "test", "web-1", w.ID); r.code != 1 {
		t.Errorf("test without a dispatcher: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run("webhooks", "create", "web-1", "https://93.184.215.14/", "--events", "nope"); r.code != 1 ||
		!strings.Contains(r.stderr, "events") {
		t.Errorf("unknown event: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run("webhooks", "create", "web-1"); r.code != 2 {
		t.Errorf("create without a URL: exit %d", r.code)
	}
	if r := c.run("webhooks", "create", "web-1", "https://93.184.215.14/", "--header", "novalue"); r.code != 2 {
		t.Errorf("bad --header: exit %d", r.code)
	}
	if r := c.ok(t, "webhooks", "delete", "web-1", w.ID); !strings.Contains(r.stdout, "deleted webhook "+w.ID) {
		t.Errorf("delete: %q", r.stdout)
	}
}
