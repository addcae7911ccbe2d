package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Plans and quotas end to end, set through the plan API as an operator
// does (docs/billing.md, "Plans" and "Quotas and enforcement").

// planChangeDeadline bounds how long a plan change takes to reach the
// edge: the second, plus the slack of a loaded test machine.
const planChangeDeadline = 3 * time.Second

// newPlan creates a plan and returns its id.
func newPlan(t *testing.T, h testenv.Node, name string, enforcement channels.Enforcement, limits map[string]any) string {
	t.Helper()
	var p struct{ ID string }
	body := map[string]any{"name": name, "enforcement": enforcement, "limits": limits}
	if code := h.Admin(t, "POST", "/admin/v1/plans", body, &p); code != http.StatusCreated {
		t.Fatalf("create plan %s = %d", name, code)
	}
	return p.ID
}

// setPlan puts account on plan ("" removes its plan).
func setPlan(t *testing.T, h testenv.Node, account, plan string) {
	t.Helper()
	var out struct {
		PlanID *string `json:"plan_id"`
	}
	if code := h.Admin(t, "PATCH", "/admin/v1/accounts/"+account, map[string]any{"plan_id": plan}, &out); code != http.StatusOK {
		t.Fatalf("set plan %q on %s = %d", plan, account, code)
	}
	if got := ""; out.PlanID != nil && *out.PlanID != plan || out.PlanID == nil && plan != got {
		t.Fatalf("account answered plan_id %v, want %q", out.PlanID, plan)
	}
}

// appOnPlan creates an account on plan and an app in it.
func appOnPlan(t *testing.T, h testenv.Node, id, plan string, settings map[string]any) (account, key, secret string) {
	t.Helper()
	account = newAccount(t, h, "acc-"+id)
	setPlan(t, h, account, plan)
	key, secret = newAppIn(t, h, account, id, settings)
	return account, key, secret
}

// restAnswer is a REST publish's answer.
type restAnswer struct {
	code       int
	retryAfter string
	body       string
}

// publishREST publishes one event to channel with Basic key:secret.
func publishREST(t *testing.T, base, app, key, secret, channel string) restAnswer {
	t.Helper()
	body := fmt.Sprintf(`{"name":"e","data":"d","channel":%q}`, channel)
	req, err := http.NewRequest("POST", base+"/apps/"+app+"/events", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = basic(key, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return restAnswer{code: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: string(b)}
}

// checkQuotaExceeded checks a 429 quota_exceeded answer naming quota,
// whose Retry-After is within a day (the daily quota resets at 00:00 UTC).
func checkQuotaExceeded(t *testing.T, a restAnswer, quota string) {
	t.Helper()
	if a.code != http.StatusTooManyRequests {
		t.Fatalf("publish over the quota = %d %s, want 429", a.code, a.body)
	}
	var e channels.ErrorBody
	if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error.Code != "quota_exceeded" || !strings.Contains(e.Error.Message, quota) {
		t.Fatalf("429 body = %s (%v), want code quota_exceeded naming %s", a.body, err, quota)
	}
	secs, err := strconv.Atoi(a.retryAfter)
	untilMidnight := time.Until(time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > untilMidnight+time.Minute {
		t.Fatalf("Retry-After = %q, want the seconds to 00:00 UTC (%s)", a.retryAfter, untilMidnight.Round(time.Second))
	}
}

// TestPlanHardMessageQuota: over a hard daily message quota, REST
// publishes get 429 with Retry-After (through pusher-http-go too), a
// client event gets pusher:error 4301 and herald:publish a nack 4301, the
// connection kept; raising the plan lets everything through again within
// a second, without a restart.
func TestPlanHardMessageQuota(t *testing.T) {
	h := meteredHerald(t)
	plan := newPlan(t, h, "tiny-hard", channels.EnforceHard, map[string]any{"max_messages_per_day": 3})
	_, k, s := appOnPlan(t, h, "quota-hard", plan, map[string]any{"client_events": true})

	// The sender is excluded from its own client events and publishes and
	// nobody else subscribes: each accepted publish counts 1 message.
	p := testenv.MustDialPusher(t, h.URL(), k)
	p.Subscribe("private-room", k, s, "")
	for i := range 3 {
		if a := publishREST(t, h.URL(), "quota-hard", k, s, "nobody"); a.code != http.StatusOK {
			t.Fatalf("publish %d under the quota = %d %s", i, a.code, a.body)
		}
	}
	checkQuotaExceeded(t, publishREST(t, h.URL(), "quota-hard", k, s, "nobody"), "max_messages_per_day")
	if err := sdkClient(t, h.URL(), "quota-hard", k, s).Trigger("nobody", "e", "d"); err == nil ||
		!strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "quota_exceeded") {
		t.Fatalf("pusher-http-go Trigger over the quota: %v, want its error for the 429", err)
	}

	p.Send("client-hi", "private-room", map[string]any{})
	if e, _ := p.Expect(protocol.EventError, ""); !strings.Contains(e.Data, "4301") || !strings.Contains(e.Data, "max_messages_per_day") {
		t.Fatalf("client event over the quota: %+v, want pusher:error 4301 naming the quota", e)
	}
	p.Send(protocol.EventPublish, "", map[string]any{"channel": "private-room", "event": "hp", "data": "x", "id": "hp-1"})
	if e, _ := p.Expect(protocol.EventNack, ""); !strings.Contains(e.Data, "4301") {
		t.Fatalf("herald:publish over the quota: %+v, want nack 4301", e)
	}
	p.Send(protocol.EventPing, "", map[string]any{})
	p.Expect(protocol.EventPong, "")

	patch := map[string]any{"name": "tiny-hard", "enforcement": channels.EnforceHard, "limits": map[string]any{"max_messages_per_day": 1000}}
	if code := h.Admin(t, "PATCH", "/admin/v1/plans/"+plan, patch, nil); code != http.StatusOK {
		t.Fatalf("raise plan = %d", code)
	}
	testinfra.WaitUntilWithin(t, "publishes accepted after the plan was raised", planChangeDeadline, func() bool {
		return publishREST(t, h.URL(), "quota-hard", k, s, "nobody").code == http.StatusOK
	})
	p.Send(protocol.EventPublish, "", map[string]any{"channel": "private-room", "event": "hp", "data": "x", "id": "hp-2"})
	if e, skipped := p.Expect(protocol.EventAck, ""); len(skipped) > 0 {
		t.Fatalf("before the ack: %+v (%+v)", skipped, e)
	}
}

// TestPlanRejectsBadInput: plan and account-plan input errors name the
// field; a plan in use cannot be deleted.
func TestPlanRejectsBadInput(t *testing.T) {
	h := testenv.Herald(t)
	cases := []struct {
		name  string
		body  string
		field string
	}{
		{"negative limit", `{"name":"n1","enforcement":"hard","limits":{"max_connections":-1}}`, "limits.max_connections"},
		{"absurd limit", `{"name":"n2","enforcement":"hard","limits":{"max_messages_per_day":1e30}}`, "limits.max_messages_per_day"},
		{"fractional limit", `{"name":"n3","enforcement":"hard","limits":{"publish_rate":1.5}}`, "limits.publish_rate"},
		{"string limit", `{"name":"n4","enforcement":"hard","limits":{"max_message_bytes":"big"}}`, "limits.max_message_bytes"},
		{"unknown enforcement", `{"name":"n5","enforcement":"strict","limits":{}}`, "enforcement"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e channels.ErrorBody
			if code := h.Admin(t, "POST", "/admin/v1/plans", json.RawMessage(c.body), &e); code != http.StatusBadRequest || e.Error.Field != c.field {
				t.Fatalf("POST %s = %d %+v, want 400 naming %s", c.body, code, e.Error, c.field)
			}
		})
	}
	account := newAccount(t, h, "bad-input")
	var e channels.ErrorBody
	if code := h.Admin(t, "PATCH", "/admin/v1/accounts/"+account, map[string]any{"plan_id": "no-such-plan"}, &e); code != http.StatusBadRequest || e.Error.Field != "plan_id" {
		t.Fatalf("unknown plan on an account = %d %+v, want 400 naming plan_id", code, e.Error)
	}
	if code := h.Admin(t, "GET", "/admin/v1/plans/no-such-plan", nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET unknown plan = %d", code)
	}
	plan := newPlan(t, h, "in-use", channels.EnforceHard, map[string]any{})
	setPlan(t, h, account, plan)
	if code := h.Admin(t, "DELETE", "/admin/v1/plans/"+plan, nil, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "1") {
		t.Fatalf("DELETE a plan in use = %d %+v, want 409 naming 1 account", code, e.Error)
	}
	setPlan(t, h, account, "")
	if code := h.Admin(t, "DELETE", "/admin/v1/plans/"+plan, nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE an unused plan = %d", code)
	}
}

// TestPlanChangeRacingABurst: lowering a plan while publishes stream in
// answers each publish 200 or 429, never anything else, and the usage
// counts exactly the accepted ones.
func TestPlanChangeRacingABurst(t *testing.T) {
	h := meteredHerald(t)
	plan := newPlan(t, h, "racing", channels.EnforceHard, map[string]any{"max_messages_per_day": 1_000_000})
	_, k, s := appOnPlan(t, h, "racing", plan, nil)
	const publishes = 300
	var (
		mu       sync.Mutex
		accepted int64
		others   []string
	)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range publishes {
			a := publishREST(t, h.URL(), "racing", k, s, "nobody")
			mu.Lock()
			switch a.code {
			case http.StatusOK:
				accepted++
			case http.StatusTooManyRequests:
			default:
				others = append(others, fmt.Sprintf("%d %s", a.code, a.body))
			}
			mu.Unlock()
		}
	})
	time.Sleep(50 * time.Millisecond)
	lower := map[string]any{"name": "racing", "enforcement": channels.EnforceHard, "limits": map[string]any{"max_messages_per_day": 100}}
	if code := h.Admin(t, "PATCH", "/admin/v1/plans/"+plan, lower, nil); code != http.StatusOK {
		t.Fatalf("lower plan = %d", code)
	}
	wg.Wait()
	if len(others) > 0 {
		t.Fatalf("publishes answered neither 200 nor 429: %v", others)
	}
	testinfra.WaitUntilWithin(t, "usage to count the accepted publishes", usageDeadline, func() bool {
		var r struct {
			Totals struct {
				MessagesPublished int64 `json:"messages_published"`
			}
		}
		h.Admin(t, "GET", "/admin/v1/apps/racing/usage?granularity=day", nil, &r)
		return r.Totals.MessagesPublished == accepted
	})
	t.Logf("%d of %d publishes accepted around the plan change", accepted, publishes)
}

// TestPlanCapsWebhookEndpoints: a plan's max_webhook_endpoints caps each
// app's endpoints; one more is a 400 naming the limit.
func TestPlanCapsWebhookEndpoints(t *testing.T) {
	h := testenv.Herald(t)
	plan := newPlan(t, h, "one-hook", channels.EnforceHard, map[string]any{"max_webhook_endpoints": 1})
	appOnPlan(t, h, "hooks-capped", plan, nil)
	// A public address: endpoint creation checks it, nothing dials it.
	hook := map[string]any{"url": "https://93.184.215.14/hook"}
	if code := h.Admin(t, "POST", "/admin/v1/apps/hooks-capped/webhooks", hook, nil); code != http.StatusCreated {
		t.Fatalf("first endpoint = %d", code)
	}
	var e channels.ErrorBody
	if code := h.Admin(t, "POST", "/admin/v1/apps/hooks-capped/webhooks", hook, &e); code != http.StatusBadRequest ||
		!strings.Contains(e.Error.Message, "max_webhook_endpoints") {
		t.Fatalf("second endpoint = %d %+v, want 400 naming max_webhook_endpoints", code, e.Error)
	}
}

// TestPlanLoweredBelowUsageRefusesAtOnce: an account that used more than
// a hard plan allows is refused from the moment its new config reaches
// the edge, not from its next fold: the plan change puts its totals
// before its configs.
func TestPlanLoweredBelowUsageRefusesAtOnce(t *testing.T) {
	h := meteredHerald(t)
	account := newAccount(t, h, "acc-lowered")
	k, s := newAppIn(t, h, account, "quota-lowered", nil)
	const used = 20
	for i := range used {
		if a := publishREST(t, h.URL(), "quota-lowered", k, s, "nobody"); a.code != http.StatusOK {
			t.Fatalf("publish %d without a plan = %d %s", i, a.code, a.body)
		}
	}
	testinfra.WaitUntilWithin(t, "usage to count the publishes", usageDeadline, func() bool {
		var r struct {
			Totals struct {
				MessagesPublished int64 `json:"messages_published"`
			}
		}
		h.Admin(t, "GET", "/admin/v1/apps/quota-lowered/usage?granularity=day", nil, &r)
		return r.Totals.MessagesPublished == used
	})
	// The plan's max_message_bytes shows when the config has arrived: a
	// publish over it is refused (413, or 429 once its quota applies)
	// without being published.
	const maxBytes = 8
	plan := newPlan(t, h, "lowered", channels.EnforceHard, map[string]any{"max_messages_per_day": used / 2, "max_message_bytes": maxBytes})
	setPlan(t, h, account, plan)
	big := strings.Repeat("x", 2*maxBytes)
	testinfra.WaitUntilWithin(t, "the plan's config at the API", planChangeDeadline, func() bool {
		return sdkClient(t, h.URL(), "quota-lowered", k, s).Trigger("nobody", "e", big) != nil
	})
	for range 8 {
		checkQuotaExceeded(t, publishREST(t, h.URL(), "quota-lowered", k, s, "nobody"), "max_messages_per_day")
	}
}

// TestQuotaAtLimitIsReached: an account that used exactly its hard daily
// quota has reached it, not exceeded it: the next publish is refused,
// saying so, the crossing is quota_reached (audit quota.reached), and no
// period is over_quota.
func TestQuotaAtLimitIsReached(t *testing.T) {
	h := meteredHerald(t)
	const perDay = 3
	plan := newPlan(t, h, "at-limit", channels.EnforceHard, map[string]any{"max_messages_per_day": perDay})
	account, k, s := appOnPlan(t, h, "quota-at-limit", plan, nil)
	for i := range perDay {
		if a := publishREST(t, h.URL(), "quota-at-limit", k, s, "nobody"); a.code != http.StatusOK {
			t.Fatalf("publish %d under the quota = %d %s", i, a.code, a.body)
		}
	}
	a := publishREST(t, h.URL(), "quota-at-limit", k, s, "nobody")
	checkQuotaExceeded(t, a, "max_messages_per_day")
	if !strings.Contains(a.body, "has reached its max_messages_per_day (3)") {
		t.Errorf("refusal at the limit = %s; want it to say the quota is reached", a.body)
	}
	actions := func() map[string]int {
		var audit struct {
			Items []struct{ Action, Target string }
		}
		h.Admin(t, "GET", "/admin/v1/audit?limit=100", nil, &audit)
		got := map[string]int{}
		for _, e := range audit.Items {
			if e.Target == account && strings.HasPrefix(e.Action, "quota.") {
				got[e.Action]++
			}
		}
		return got
	}
	testinfra.WaitUntilWithin(t, "the quota's 100% crossing recorded", usageDeadline, func() bool {
		got := actions()
		return got["quota.reached"]+got["quota.exceeded"] > 0
	})
	if got := actions(); got["quota.reached"] != 1 || got["quota.exceeded"] != 0 {
		t.Errorf("audit = %v; want quota.reached once and no quota.exceeded", got)
	}
	var usage struct {
		Items []struct {
			OverQuota bool `json:"over_quota"`
		}
		Totals struct {
			Messages  int64 `json:"messages"`
			OverQuota bool  `json:"over_quota"`
		}
	}
	if code := h.Admin(t, "GET", "/admin/v1/accounts/"+account+"/usage?granularity=day", nil, &usage); code != http.StatusOK ||
		usage.Totals.Messages != perDay || usage.Totals.OverQuota || len(usage.Items) != 1 || usage.Items[0].OverQuota {
		t.Errorf("account usage = %d %+v; want %d messages, not over_quota", code, usage, perDay)
	}
}
