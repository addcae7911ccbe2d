package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/webhooks"
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

// stubTester stands in for the webhook dispatcher: every test request
// gets result.
type stubTester struct{ result webhooks.TestResult }

func (s stubTester) Test(context.Context, string, string) (webhooks.TestResult, error) {
	return s.result, nil
}

func (s stubTester) TestOperator(context.Context, string) (webhooks.TestResult, error) {
	return s.result, nil
}

// TestAdminCLIWebhookTestExitStatus: a test that the endpoint failed
// exits 1 after printing the result, so that a script can tell.
func TestAdminCLIWebhookTestExitStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		result webhooks.TestResult
		code   int
	}{
		{"answered 2xx", webhooks.TestResult{OK: true, StatusCode: 204, DurationMS: 3}, 0},
		{"answered 500", webhooks.TestResult{StatusCode: 500, Error: "HTTP 500", DurationMS: 3}, 1},
		{"no answer", webhooks.TestResult{Error: "connection refused", DurationMS: 1}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := adminServerWith(t, func(cfg *api.Config) { cfg.Webhooks.Tester = stubTester{tc.result} })
			c := &cli{env: map[string]string{"HERALD_URL": url, "HERALD_ADMIN_TOKEN": adminTestToken}}
			for _, args := range [][]string{
				{"webhooks", "test", "web-1", "wh_1"},
				{"webhooks", "operator", "test", "wh_1"},
				{"--json", "webhooks", "test", "web-1", "wh_1"},
			} {
				r := c.run(args...)
				if r.code != tc.code {
					t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, tc.code, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stdout, strconv.FormatBool(tc.result.OK)) {
					t.Errorf("%v: the result is not printed: %q", args, r.stdout)
				}
				if failed := strings.Contains(r.stderr, "the endpoint failed the test"); failed != (tc.code == 1) {
					t.Errorf("%v: stderr %q", args, r.stderr)
				}
			}
		})
	}
}
