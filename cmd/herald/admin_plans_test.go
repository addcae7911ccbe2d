package main

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestAdminCLIPlans(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	var p billing.Plan
	c.okJSON(t, &p, "plans", "create", "--name", "Starter", "--enforcement", "hard", "--id", "starter",
		"--max-messages-per-day", "1000", "--max-message-bytes", "2048", "--max-webhook-endpoints", "2")
	want := billing.Limits{MaxMessagesPerDay: 1000, MaxMessageBytes: 2048, MaxWebhookEndpoints: 2}
	if p.ID != "starter" || p.Name != "Starter" || p.Enforcement != channels.EnforceHard || p.Limits != want {
		t.Fatalf("created plan = %+v", p)
	}
	if r := c.ok(t, "plans", "get", "starter"); !strings.Contains(r.stdout, "limits.max_messages_per_day") ||
		!strings.Contains(r.stdout, "1000") || !strings.Contains(r.stdout, "unlimited") {
		t.Errorf("plans get:\n%s", r.stdout)
	}
	if r := c.ok(t, "plans", "list"); !strings.Contains(r.stdout, "ENFORCEMENT") || !strings.Contains(r.stdout, "Starter") {
		t.Errorf("plans list:\n%s", r.stdout)
	}

	c.okJSON(t, &p, "plans", "update", "starter", "--enforcement", "soft", "--publish-rate", "5", "--max-messages-per-day", "0")
	want = billing.Limits{MaxMessageBytes: 2048, MaxWebhookEndpoints: 2, PublishRate: 5}
	if p.Name != "Starter" || p.Enforcement != channels.EnforceSoft || p.Limits != want {
		t.Errorf("updated plan = %+v", p)
	}

	var acct controlplane.Account
	c.okJSON(t, &acct, "accounts", "create", "--name", "Acme")
	c.okJSON(t, &acct, "accounts", "set-plan", "--account", acct.ID, "--plan", "starter")
	if acct.PlanID == nil || *acct.PlanID != "starter" {
		t.Fatalf("set-plan = %+v", acct)
	}
	if r := c.ok(t, "accounts", "list"); !strings.Contains(r.stdout, "PLAN") || !strings.Contains(r.stdout, "starter") {
		t.Errorf("accounts list:\n%s", r.stdout)
	}
	if r := c.run("plans", "delete", "starter"); r.code != 1 || !strings.Contains(r.stderr, "1 account") {
		t.Errorf("deleting a plan in use: exit %d, stderr %q", r.code, r.stderr)
	}
	c.okJSON(t, &acct, "accounts", "set-plan", "--account", acct.ID)
	if acct.PlanID != nil {
		t.Errorf("set-plan without --plan = %+v, want no plan", acct)
	}
	if r := c.ok(t, "plans", "delete", "starter"); !strings.Contains(r.stdout, "deleted plan starter") {
		t.Errorf("delete: %q", r.stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plans", "create", "--enforcement", "hard"}, 2, "--name is required"},
		{[]string{"plans", "create", "--name", "x"}, 2, "--enforcement is required"},
		{[]string{"plans", "create", "--name", "x", "--enforcement", "hard", "--publish-rate", "1.5"}, 2, "want an integer"},
		{[]string{"plans", "create", "--name", "x", "--enforcement", "hard", "--publish-rate", "-1"}, 1, "limits.publish_rate"},
		{[]string{"plans", "update", "missing", "--name", "y"}, 1, "not found"},
		{[]string{"accounts", "set-plan", "--plan", "x"}, 2, "--account is required"},
		{[]string{"accounts", "set-plan", "--account", acct.ID, "--plan", "missing"}, 1, "plan missing not found"},
	} {
		if r := c.run(tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
	}
}
