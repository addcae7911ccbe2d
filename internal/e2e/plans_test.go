package e2e_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// planDeadline is how soon a plan change must be enforced at the edge.
const planDeadline = time.Second

// demoAccount returns the account of dev mode's demo app.
func demoAccount(t *testing.T, h *testenv.HeraldEnv) controlplane.Account {
	t.Helper()
	var app controlplane.App
	if code := h.Admin(t, http.MethodGet, "/admin/v1/apps/"+appID, nil, &app); code != http.StatusOK {
		t.Fatalf("get demo app: %d", code)
	}
	var acct controlplane.Account
	if code := h.Admin(t, http.MethodGet, "/admin/v1/accounts/"+app.AccountID, nil, &acct); code != http.StatusOK {
		t.Fatalf("get demo account: %d", code)
	}
	return acct
}

// restPublishStatus publishes data on a channel through the REST API and
// returns the status.
func restPublishStatus(t *testing.T, h *testenv.HeraldEnv, data string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "e", "data": data, "channels": []string{"plan-probe"}})
	code, _ := testenv.SignedRequest(t, http.MethodPost, h.URL(), "/apps/"+appID+"/events", key, secret, nil, body)
	return code
}

// TestPlanPropagation: dev mode puts the demo account on the unlimited
// dev plan; patching that plan's max_message_bytes and client_event_rate
// reaches the gateway within a second, without a restart: a client event
// it accepted is refused, then accepted again once the limit is lifted.
func TestPlanPropagation(t *testing.T) {
	h := testenv.Herald(t, func(c *platform.Config) { c.DefaultPlan = platform.DevPlanID })
	acct := demoAccount(t, h)
	if acct.PlanID == nil || *acct.PlanID != platform.DevPlanID {
		t.Fatalf("demo account = %+v, want plan %s", acct, platform.DevPlanID)
	}
	var created controlplane.Account
	h.Admin(t, http.MethodPost, "/admin/v1/accounts", map[string]any{"name": "new"}, &created)
	if created.PlanID == nil || *created.PlanID != platform.DevPlanID {
		t.Errorf("new account = %+v, want the default plan", created)
	}

	const ch = "private-plan"
	a := testenv.MustDialPusher(t, h.URL(), key)
	b := testenv.MustDialPusher(t, h.URL(), key)
	a.Subscribe(ch, key, secret, "")
	b.Subscribe(ch, key, secret, "")
	big := map[string]any{"pad": strings.Repeat("x", 200)}
	a.Send("client-big", ch, big)
	b.Expect("client-big", ch)

	patch := func(limits map[string]any) {
		t.Helper()
		var p billing.Plan
		if code := h.Admin(t, http.MethodPatch, "/admin/v1/plans/"+platform.DevPlanID,
			map[string]any{"limits": limits}, &p); code != http.StatusOK {
			t.Fatalf("patch plan: %d", code)
		}
	}
	// The REST API reads the same config cache as the gateway: once it
	// refuses a large publish, the cache holds the new limit.
	start := time.Now()
	patch(map[string]any{"max_message_bytes": 100})
	testinfra.WaitUntilWithin(t, "the plan's max_message_bytes at the edge", planDeadline, func() bool {
		return restPublishStatus(t, h, strings.Repeat("y", 200)) == http.StatusRequestEntityTooLarge
	})
	a.Send("client-big", ch, big)
	e, _ := a.Expect("pusher:error", "")
	if !strings.Contains(e.Data, "larger than 100 bytes") {
		t.Fatalf("client event over the plan's max_message_bytes: %+v", e)
	}
	if took := time.Since(start); took > planDeadline {
		t.Errorf("the plan's max_message_bytes took %s to apply", took)
	}
	b.ExpectNothing(quiet)

	// A stricter client_event_rate: the third event of a burst is refused.
	patch(map[string]any{"max_message_bytes": 0, "client_event_rate": 2})
	testinfra.WaitUntilWithin(t, "the lifted max_message_bytes at the edge", planDeadline, func() bool {
		return restPublishStatus(t, h, strings.Repeat("y", 200)) == http.StatusOK
	})
	for i := range 4 {
		a.Send("client-small", ch, map[string]any{"i": i})
	}
	limited, _ := a.Expect("pusher:error", "")
	if !strings.Contains(limited.Data, "4301") || !strings.Contains(limited.Data, "more than 2 per second") {
		t.Fatalf("client events over the plan's rate: %+v", limited)
	}
	time.Sleep(time.Second) // the bucket refills
	a.Send("client-big", ch, big)
	if e, _ := b.Expect("client-big", ch); e.Event != "client-big" {
		t.Fatalf("after the limit was lifted: %+v", e)
	}

	// The app's own settings are untouched.
	var app controlplane.App
	h.Admin(t, http.MethodGet, "/admin/v1/apps/"+appID, nil, &app)
	if app.Settings.MaxMessageBytes != channels.DefaultMaxMessageBytes || app.Settings.ClientEventRate != channels.DefaultClientEventRate {
		t.Errorf("the app's settings changed: %+v", app.Settings)
	}
}

// TestAccountPlanReachesKV: moving an account to another plan, and off
// any, republishes its apps' configs with the plan's quota within a
// second.
func TestAccountPlanReachesKV(t *testing.T) {
	h := testenv.Herald(t)
	kv := appsKV(t, h)
	acct := demoAccount(t, h)

	var tiny billing.Plan
	if code := h.Admin(t, http.MethodPost, "/admin/v1/plans", map[string]any{"name": "tiny", "enforcement": "hard",
		"limits": map[string]any{"max_connections": 5, "max_messages_per_day": 100, "max_messages_per_month": 1000,
			"publish_rate": 3, "resume_window_s": 30}}, &tiny); code != http.StatusCreated {
		t.Fatalf("create plan: %d", code)
	}
	want := channels.Quota{Plan: tiny.ID, Enforcement: channels.EnforceHard, MaxConnections: 5,
		MaxMessagesPerDay: 100, MaxMessagesPerMonth: 1000, PublishRate: 3}
	var got controlplane.Account
	if code := h.Admin(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, map[string]any{"plan_id": tiny.ID}, &got); code != http.StatusOK {
		t.Fatalf("set plan: %d", code)
	}
	waitKV(t, kv, appID, func(c *channels.AppConfig, ok bool) bool {
		return ok && c.Quota == want && c.Settings.ResumeWindowS == 30
	})

	// Raising the plan reaches the entry too.
	h.Admin(t, http.MethodPatch, "/admin/v1/plans/"+tiny.ID, map[string]any{"limits": map[string]any{"max_messages_per_day": 500}}, nil)
	want.MaxMessagesPerDay = 500
	waitKV(t, kv, appID, func(c *channels.AppConfig, ok bool) bool { return ok && c.Quota == want })

	h.Admin(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, map[string]any{"plan_id": nil}, nil)
	waitKV(t, kv, appID, func(c *channels.AppConfig, ok bool) bool {
		return ok && c.Quota == (channels.Quota{}) && c.Settings.ResumeWindowS == channels.DefaultResumeWindowS
	})
}

// TestUnknownDefaultPlan: a --default-plan that names no plan stops the
// start with an error naming the flag.
func TestUnknownDefaultPlan(t *testing.T) {
	cfg := platform.Config{
		Mode: platform.ModeDev, Addr: "127.0.0.1:0", DataDir: t.TempDir(), DatabaseURL: testinfra.Postgres(t),
		Logger: testinfra.Logger(t), DefaultPlan: "gold",
	}
	p, err := platform.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), `--default-plan "gold": no plan has that id or name`) {
		t.Fatalf("run with an unknown default plan: %v", err)
	}
}
