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

// publishWithKey posts body to path as the demo app (Basic auth) with an
// optional Idempotency-Key and returns the status, Retry-After and error code.
func publishWithKey(t *testing.T, h *testenv.HeraldEnv, path, body, idemKey string) (int, string, channels.Code) {
	t.Helper()
	req, err := http.NewRequest("POST", h.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testenv.AppKey, testenv.AppSecret)
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	code, hdr, b := testenv.DoHeader(t, http.DefaultClient, req)
	var eb channels.ErrorBody
	_ = json.Unmarshal(b, &eb)
	return code, hdr.Get("Retry-After"), eb.Error.Code
}

// setDemoQuota puts the demo app's account on a new hard plan with
// limits, through the plan API; the account's app configs are
// republished before the API answers.
func setDemoQuota(t *testing.T, h *testenv.HeraldEnv, limits map[string]any) {
	t.Helper()
	var app struct {
		AccountID string `json:"account_id"`
	}
	if code := h.Admin(t, "GET", "/admin/v1/apps/"+testenv.AppID, nil, &app); code != http.StatusOK {
		t.Fatalf("GET demo app = %d", code)
	}
	var plan struct{ ID string }
	body := map[string]any{"name": "demo-" + strconv.Itoa(int(demoPlans.Add(1))), "enforcement": channels.EnforceHard, "limits": limits}
	if code := h.Admin(t, "POST", "/admin/v1/plans", body, &plan); code != http.StatusCreated {
		t.Fatalf("create plan = %d", code)
	}
	if code := h.Admin(t, "PATCH", "/admin/v1/accounts/"+app.AccountID, map[string]any{"plan_id": plan.ID}, nil); code != http.StatusOK {
		t.Fatalf("set plan = %d", code)
	}
}

// demoPlans numbers the plans setDemoQuota makes.
var demoPlans atomic.Int64

// TestPublishQuota: REST publishes over the account's daily message
// quota answer 429 quota_exceeded with Retry-After; idempotent retries
// and refused publishes count nothing; a batch is judged whole; over
// publish_rate the answer is 429 too, with the refill's Retry-After.
func TestPublishQuota(t *testing.T) {
	h := testenv.Herald(t)
	const events = "/apps/" + testenv.AppID + "/events"
	const batch = "/apps/" + testenv.AppID + "/batch_events"
	one := `{"name":"e","data":"d","channels":["quiet"]}`
	items := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `{"name":"e","data":"d","channel":"quiet"}`
		}
		return `{"batch":[` + strings.Join(parts, ",") + `]}`
	}

	setDemoQuota(t, h, map[string]any{"max_messages_per_day": 3})
	// The first publish that the quota refuses shows it arrived; the
	// ones before it (at most 3) count, so the quota is raised to the
	// count plus 3 for the checks below.
	passed := 0
	testinfra.WaitUntilWithin(t, "the quota to reach the API", quotaPropagation, func() bool {
		code, _, _ := publishWithKey(t, h, events, one, "")
		if code == http.StatusOK {
			passed++
		}
		return code == http.StatusTooManyRequests
	})
	limit := int64(passed + 3)
	setDemoQuota(t, h, map[string]any{"max_messages_per_day": limit})
	testinfra.WaitUntilWithin(t, "the raised quota", quotaPropagation, func() bool {
		code, _, _ := publishWithKey(t, h, events, one, "retry-me")
		return code == http.StatusOK
	})
	// Retries of the same key are duplicates: they count nothing.
	for i := range 5 {
		if code, _, _ := publishWithKey(t, h, events, one, "retry-me"); code != http.StatusOK {
			t.Fatalf("idempotent retry %d = %d", i, code)
		}
	}
	// 2 left: a batch of 3 is refused whole, and counts nothing.
	if code, retry, ec := publishWithKey(t, h, batch, items(3), ""); code != http.StatusTooManyRequests || ec != channels.CodeQuotaExceeded || retry == "" {
		t.Fatalf("batch of 3 over the quota = %d %q %s", code, retry, ec)
	}
	if code, _, _ := publishWithKey(t, h, batch, items(2), ""); code != http.StatusOK {
		t.Fatalf("batch of 2 within the quota = %d", code)
	}
	code, retry, ec := publishWithKey(t, h, events, one, "")
	secs, _ := strconv.Atoi(retry)
	now := time.Now().UTC()
	untilMidnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
	if code != http.StatusTooManyRequests || ec != channels.CodeQuotaExceeded || secs < 1 || time.Duration(secs)*time.Second > untilMidnight+2*time.Second {
		t.Fatalf("publish over the quota = %d, Retry-After %q, %s; want 429 quota_exceeded within %s", code, retry, ec, untilMidnight)
	}

	// publish_rate: 2 per second, burst 2.
	setDemoQuota(t, h, map[string]any{"publish_rate": 2})
	testinfra.WaitUntilWithin(t, "the rate quota", quotaPropagation, func() bool {
		code, _, _ := publishWithKey(t, h, events, one, "")
		return code == http.StatusOK
	})
	var rc int
	var rretry string
	testinfra.WaitUntilWithin(t, "the rate quota to refuse", quotaPropagation, func() bool {
		rc, rretry, ec = publishWithKey(t, h, events, one, "")
		return rc == http.StatusTooManyRequests
	})
	if ec != channels.CodeQuotaExceeded || rretry != "1" {
		t.Fatalf("over publish_rate: %s, Retry-After %q; want quota_exceeded, 1", ec, rretry)
	}
}
