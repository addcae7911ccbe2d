package e2e_test

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// operatorEndpoint registers an operator webhook endpoint through the
// admin API, as the platform's operator does, and returns the receiver
// behind it, which checks every request with pusher-http-go's webhook
// validation for the endpoint's own key and secret (known only once the
// endpoint exists, so the receiver's listener comes first).
func operatorEndpoint(t *testing.T, cp testenv.Node) *testenv.WebhookReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		ID, Key, Secret string
	}
	if code := cp.Admin(t, "POST", "/admin/v1/operator/webhooks", map[string]any{"url": "http://" + ln.Addr().String()}, &w); code != http.StatusCreated {
		t.Fatalf("create operator webhook endpoint = %d", code)
	}
	if w.Key == "" || w.Secret == "" {
		t.Fatalf("operator endpoint without key or secret: %+v", w)
	}
	r := testenv.NewWebhookReceiverOn(t, ln, "operator", w.Key, w.Secret, nil)
	t.Cleanup(r.Check)
	return r
}

// TestOperatorWebhookQuotaEvents: an account on a soft plan with a tiny
// daily message quota crosses 80%, then 100%, then goes past it; the
// operator endpoint gets exactly one quota_warning, one quota_reached and
// one quota_exceeded for it, each signed with the endpoint's key and
// accepted by pusher-http-go.
func TestOperatorWebhookQuotaEvents(t *testing.T) {
	const perDay = 5
	h := testenv.Herald(t, quotaConfig(&quotaClock{}), withWebhookTimings, func(c *platform.Config) {
		c.Webhooks.FirstRetry, c.Webhooks.MaxRetry = 100*time.Millisecond, time.Second
	})
	r := operatorEndpoint(t, h)
	plan := newPlan(t, h, "tiny-soft", channels.EnforceSoft, map[string]any{"max_messages_per_day": perDay})
	account, key, secret := appOnPlan(t, h, "quota-ops", plan, nil)

	type quotaEvent struct {
		Name        string `json:"name"`
		Channel     string `json:"channel"`
		AccountID   string `json:"account_id"`
		Quota       string `json:"quota"`
		Threshold   int    `json:"threshold"`
		Enforcement string `json:"enforcement"`
		Period      string `json:"period"`
		Limit       int64  `json:"limit"`
		Used        int64  `json:"used"`
	}
	received := func() []quotaEvent {
		var out []quotaEvent
		seen := map[string]bool{}
		for _, q := range r.Requests() {
			if seen[q.Delivery] {
				continue
			}
			seen[q.Delivery] = true
			var body struct{ Events []quotaEvent }
			if err := json.Unmarshal([]byte(q.Body), &body); err != nil {
				t.Fatalf("operator webhook body %q: %v", q.Body, err)
			}
			out = append(out, body.Events...)
		}
		return out
	}
	// wait publishes one message at a time (nobody subscribes: each
	// counts 1) until the receiver has n events.
	wait := func(what string, n int) {
		t.Helper()
		testinfra.WaitUntilWithin(t, what, webhookDeadline, func() bool {
			if len(received()) >= n {
				return true
			}
			if a := publishREST(t, h.URL(), "quota-ops", key, secret, "nobody"); a.code != http.StatusOK {
				t.Fatalf("a soft plan refused a publish: %d %s", a.code, a.body)
			}
			time.Sleep(quotaFlushInterval)
			return false
		})
	}

	// Up to 80% (4 of 5), then let the fold see it.
	for range perDay * 80 / 100 {
		if a := publishREST(t, h.URL(), "quota-ops", key, secret, "nobody"); a.code != http.StatusOK {
			t.Fatalf("publish = %d %s", a.code, a.body)
		}
	}
	testinfra.WaitUntilWithin(t, "the quota_warning", webhookDeadline, func() bool { return len(received()) >= 1 })
	wait("the quota_reached", 2)
	wait("the quota_exceeded", 3)
	// Nothing more comes this period, however much more is published.
	for range 3 {
		publishREST(t, h.URL(), "quota-ops", key, secret, "nobody")
	}
	time.Sleep(webhookQuiet)
	got := received()
	if len(got) != 3 {
		t.Fatalf("operator events = %+v; want one quota_warning, one quota_reached and one quota_exceeded", got)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour).Format(time.RFC3339)
	for i, want := range []struct {
		name      string
		threshold int
		minUsed   int64
	}{{"quota_warning", 80, perDay * 80 / 100}, {"quota_reached", 100, perDay}, {"quota_exceeded", 100, perDay + 1}} {
		e := got[i]
		if e.Name != want.name || e.Threshold != want.threshold || e.AccountID != account || e.Channel != "" ||
			e.Quota != "max_messages_per_day" || e.Limit != perDay || e.Used < want.minUsed ||
			e.Enforcement != "soft" || e.Period != today {
			t.Errorf("event %d = %+v; want %s at %d%% of %s's daily quota", i, e, want.name, want.threshold, account)
		}
	}
	for _, q := range r.Requests() {
		if len(q.Events) != 1 || q.Events[0].Name != got[0].Name && q.Events[0].Name != got[1].Name && q.Events[0].Name != got[2].Name {
			t.Errorf("pusher-http-go read %+v", q.Events)
		}
	}
	// The delivery log shows them, delivered.
	var w struct {
		Items []struct{ ID string }
	}
	h.Admin(t, "GET", "/admin/v1/operator/webhooks", nil, &w)
	var log struct {
		Items []struct{ Status string }
	}
	if len(w.Items) != 1 {
		t.Fatalf("operator endpoints %+v", w)
	}
	if code := h.Admin(t, "GET", "/admin/v1/operator/webhooks/"+w.Items[0].ID+"/deliveries?status=delivered", nil, &log); code != 200 || len(log.Items) != 3 {
		t.Fatalf("delivery log = %d %+v; want 3 delivered", code, log)
	}
}
