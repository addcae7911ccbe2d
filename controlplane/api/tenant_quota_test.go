package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// quotaPropagation bounds how long a quota written to HERALD_APPS takes
// to reach the API's config cache.
const quotaPropagation = 2 * time.Second

// quotaApp is the app the quota tests publish as, with its key.
type quotaApp struct{ id, account, key, secret string }

// publishWithKey posts body to the app's path (Basic auth) with an
// optional Idempotency-Key and returns the status, Retry-After and error code.
func publishWithKey(t *testing.T, h *testenv.HeraldEnv, a quotaApp, path, body, idemKey string) (int, string, channels.Code) {
	t.Helper()
	req, err := http.NewRequest("POST", h.URL()+"/apps/"+a.id+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(a.key, a.secret)
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	code, hdr, b := testenv.DoHeader(t, http.DefaultClient, req)
	var eb channels.ErrorBody
	_ = json.Unmarshal(b, &eb)
	return code, hdr.Get("Retry-After"), eb.Error.Code
}

// newQuotaApp creates an account on a new hard plan with limits, then an
// app and a key in it: the app's first config already carries the quota,
// so no publish of the test is ever judged without it (an account that
// moves from no quota to one is judged from the cluster's totals, which
// follow within a flush interval: docs/billing.md).
func newQuotaApp(t *testing.T, h *testenv.HeraldEnv, limits map[string]any) quotaApp {
	t.Helper()
	var acct struct{ ID string }
	if code := h.Admin(t, "POST", "/admin/v1/accounts", map[string]any{"name": "quota"}, &acct); code != http.StatusCreated {
		t.Fatalf("create account = %d", code)
	}
	a := quotaApp{id: "quota-app", account: acct.ID}
	setPlan(t, h, a, limits)
	if code := h.Admin(t, "POST", "/admin/v1/apps", map[string]any{"account_id": acct.ID, "id": a.id, "name": a.id}, nil); code != http.StatusCreated {
		t.Fatalf("create app = %d", code)
	}
	var k struct{ Key, Secret string }
	if code := h.Admin(t, "POST", "/admin/v1/apps/"+a.id+"/keys", map[string]any{}, &k); code != http.StatusCreated {
		t.Fatalf("create key = %d", code)
	}
	testinfra.Sensitive(k.Secret)
	a.key, a.secret = k.Key, k.Secret
	// The key reaches the API's config cache with the app's quota: a read
	// (which counts no message) tells when.
	testinfra.WaitUntilWithin(t, "the new key usable", quotaPropagation, func() bool {
		code, _ := testenv.SignedRequest(t, "GET", h.URL(), "/apps/"+a.id+"/channels", a.key, a.secret, nil, nil)
		return code == http.StatusOK
	})
	return a
}

// setPlan puts the app's account on a new hard plan with limits, through
// the plan API; the account's app configs are republished before the API
// answers.
func setPlan(t *testing.T, h *testenv.HeraldEnv, a quotaApp, limits map[string]any) {
	t.Helper()
	var plan struct{ ID string }
	body := map[string]any{"name": "quota-" + strconv.Itoa(int(quotaPlans.Add(1))), "enforcement": channels.EnforceHard, "limits": limits}
	if code := h.Admin(t, "POST", "/admin/v1/plans", body, &plan); code != http.StatusCreated {
		t.Fatalf("create plan = %d", code)
	}
	if code := h.Admin(t, "PATCH", "/admin/v1/accounts/"+a.account, map[string]any{"plan_id": plan.ID}, nil); code != http.StatusOK {
		t.Fatalf("set plan = %d", code)
	}
}

// quotaPlans numbers the plans setPlan makes.
var quotaPlans atomic.Int64

// TestPublishQuota: REST publishes over the account's daily message
// quota answer 429 quota_exceeded with Retry-After; idempotent retries
// and refused publishes count nothing; a batch is judged whole; over
// publish_rate the answer is 429 too, with the refill's Retry-After.
func TestPublishQuota(t *testing.T) {
	h := testenv.Herald(t)
	const events = "/events"
	const batch = "/batch_events"
	one := `{"name":"e","data":"d","channels":["quiet"]}`
	items := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `{"name":"e","data":"d","channel":"quiet"}`
		}
		return `{"batch":[` + strings.Join(parts, ",") + `]}`
	}

	a := newQuotaApp(t, h, map[string]any{"max_messages_per_day": 3})
	// Every publish is judged with the quota: 3 pass, the 4th is refused.
	for i := range 3 {
		if code, _, _ := publishWithKey(t, h, a, events, one, ""); code != http.StatusOK {
			t.Fatalf("publish %d within the quota = %d", i, code)
		}
	}
	if code, _, ec := publishWithKey(t, h, a, events, one, ""); code != http.StatusTooManyRequests || ec != channels.CodeQuotaExceeded {
		t.Fatalf("4th publish = %d %s, want 429 quota_exceeded", code, ec)
	}
	// The quota is raised by 3 for the checks below.
	passed := 3
	limit := int64(passed + 3)
	setPlan(t, h, a, map[string]any{"max_messages_per_day": limit})
	testinfra.WaitUntilWithin(t, "the raised quota", quotaPropagation, func() bool {
		code, _, _ := publishWithKey(t, h, a, events, one, "retry-me")
		return code == http.StatusOK
	})
	// Retries of the same key are duplicates: they count nothing.
	for i := range 5 {
		if code, _, _ := publishWithKey(t, h, a, events, one, "retry-me"); code != http.StatusOK {
			t.Fatalf("idempotent retry %d = %d", i, code)
		}
	}
	// 2 left: a batch of 3 is refused whole, and counts nothing.
	if code, retry, ec := publishWithKey(t, h, a, batch, items(3), ""); code != http.StatusTooManyRequests || ec != channels.CodeQuotaExceeded || retry == "" {
		t.Fatalf("batch of 3 over the quota = %d %q %s", code, retry, ec)
	}
	if code, _, _ := publishWithKey(t, h, a, batch, items(2), ""); code != http.StatusOK {
		t.Fatalf("batch of 2 within the quota = %d", code)
	}
	code, retry, ec := publishWithKey(t, h, a, events, one, "")
	secs, _ := strconv.Atoi(retry)
	now := time.Now().UTC()
	untilMidnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
	if code != http.StatusTooManyRequests || ec != channels.CodeQuotaExceeded || secs < 1 || time.Duration(secs)*time.Second > untilMidnight+2*time.Second {
		t.Fatalf("publish over the quota = %d, Retry-After %q, %s; want 429 quota_exceeded within %s", code, retry, ec, untilMidnight)
	}

	// publish_rate: 2 per second, burst 2.
	setPlan(t, h, a, map[string]any{"publish_rate": 2})
	testinfra.WaitUntilWithin(t, "the rate quota", quotaPropagation, func() bool {
		code, _, _ := publishWithKey(t, h, a, events, one, "")
		return code == http.StatusOK
	})
	var rc int
	var rretry string
	testinfra.WaitUntilWithin(t, "the rate quota to refuse", quotaPropagation, func() bool {
		rc, rretry, ec = publishWithKey(t, h, a, events, one, "")
		return rc == http.StatusTooManyRequests
	})
	if ec != channels.CodeQuotaExceeded || rretry != "1" {
		t.Fatalf("over publish_rate: %s, Retry-After %q; want quota_exceeded, 1", ec, rretry)
	}
}
