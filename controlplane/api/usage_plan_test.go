package api_test

import (
	"net/http"
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
)

// TestUsagePlanLimits: usage answers show the account's plan limits (an
// app's lowered to its own stricter settings) and what is left of the
// message quotas today and this month (the fixture's now is 2026-01-02).
func TestUsagePlanLimits(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	plan := f.s.plan(t, map[string]any{"name": "Small", "enforcement": "hard", "limits": map[string]any{
		"max_messages_per_day": 100, "max_messages_per_month": 60, "max_message_bytes": 20000,
		"client_event_rate": 5, "max_connections": 3}})
	f.s.do(t, http.MethodPatch, "/admin/v1/accounts/"+f.acct.ID, map[string]any{"plan_id": plan.ID}).
		want(t, http.StatusOK, nil)

	acct := decodeUsage(t, f.s.do(t, http.MethodGet, "/admin/v1/accounts/"+f.acct.ID+"/usage", nil))
	if acct.Limits == nil || *acct.Limits != plan.Limits {
		t.Errorf("account limits = %+v, want %+v", acct.Limits, plan.Limits)
	}
	// Today: the day row holds only an API request (no messages); this
	// month: 52 published.
	if r := acct.Remaining; r.MessagesToday == nil || *r.MessagesToday != 100 ||
		r.MessagesThisMonth == nil || *r.MessagesThisMonth != 60-52 {
		t.Errorf("remaining = %+v, want 100 today and 8 this month", r)
	}

	app := decodeUsage(t, f.s.do(t, http.MethodGet, "/admin/v1/apps/"+f.app1.ID+"/usage", nil))
	want := plan.Limits
	want.MaxMessageBytes = channels.DefaultMaxMessageBytes // the app's own is stricter
	want.MaxPresenceMembers = channels.DefaultMaxPresenceMembers
	want.HistoryRetentionS = channels.DefaultHistoryRetentionS
	want.ResumeWindowS = channels.DefaultResumeWindowS
	if app.Limits == nil || *app.Limits != want {
		t.Errorf("app limits = %+v, want %+v", app.Limits, want)
	}
	if r := app.Remaining; r.MessagesToday == nil || *r.MessagesToday != 100 ||
		r.MessagesThisMonth == nil || *r.MessagesThisMonth != 8 {
		t.Errorf("app remaining = %+v, want the account's", r)
	}

	// Over the monthly quota: floored at 0. Unlimited: null.
	f.s.do(t, http.MethodPatch, "/admin/v1/plans/"+plan.ID, map[string]any{"limits": map[string]any{
		"max_messages_per_day": 0, "max_messages_per_month": 10}}).want(t, http.StatusOK, nil)
	acct = decodeUsage(t, f.s.do(t, http.MethodGet, "/admin/v1/accounts/"+f.acct.ID+"/usage", nil))
	if r := acct.Remaining; r.MessagesToday != nil || r.MessagesThisMonth == nil || *r.MessagesThisMonth != 0 {
		t.Errorf("remaining = %+v, want null today and 0 this month", r)
	}

	// Another account, without a plan: no limits, nothing counted down.
	other := decodeUsage(t, f.s.do(t, http.MethodGet, "/admin/v1/accounts/"+f.other.ID+"/usage", nil))
	if other.Limits != nil || other.Remaining != (billing.Remaining{}) {
		t.Errorf("account without a plan: limits %+v, remaining %+v", other.Limits, other.Remaining)
	}
}
