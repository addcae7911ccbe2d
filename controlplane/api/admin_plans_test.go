package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
)

// plan creates a plan through the API.
func (s *server) plan(tb testing.TB, body map[string]any) billing.Plan {
	tb.Helper()
	var p billing.Plan
	s.do(tb, http.MethodPost, "/admin/v1/plans", body).want(tb, http.StatusCreated, &p)
	return p
}

func TestPlansLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	p := s.plan(t, map[string]any{"name": "Starter", "enforcement": "hard",
		"limits": map[string]any{"max_messages_per_day": 1000, "max_message_bytes": 2048}})
	want := billing.Limits{MaxMessagesPerDay: 1000, MaxMessageBytes: 2048}
	if p.ID == "" || p.Name != "Starter" || p.Enforcement != channels.EnforceHard || p.Limits != want {
		t.Fatalf("created plan = %+v", p)
	}
	// Every limit is in the answer, 0 for unlimited.
	r := s.do(t, http.MethodGet, "/admin/v1/plans/"+p.ID, nil)
	var got billing.Plan
	r.want(t, http.StatusOK, &got)
	if got != p || !strings.Contains(string(r.body), `"max_webhook_endpoints":0`) {
		t.Errorf("GET = %s, want %+v", r.body, p)
	}
	named := s.plan(t, map[string]any{"id": "free", "name": "Free", "enforcement": "soft"})
	if named.ID != "free" || named.Limits != (billing.Limits{}) {
		t.Errorf("plan without limits = %+v", named)
	}

	var l list[billing.Plan]
	s.do(t, http.MethodGet, "/admin/v1/plans?limit=1", nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].ID != "free" || l.NextCursor == nil {
		t.Errorf("first page = %+v", l)
	}

	var up billing.Plan
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, map[string]any{"enforcement": "soft",
		"limits": map[string]any{"max_messages_per_day": 0, "publish_rate": 5}}).want(t, http.StatusOK, &up)
	want = billing.Limits{MaxMessageBytes: 2048, PublishRate: 5}
	if up.Name != "Starter" || up.Enforcement != channels.EnforceSoft || up.Limits != want {
		t.Errorf("patched plan = %+v", up)
	}
	var same billing.Plan
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, map[string]any{}).want(t, http.StatusOK, &same)
	if same != up {
		t.Errorf("empty patch answered %+v, want %+v", same, up)
	}

	s.do(t, http.MethodDelete, "/admin/v1/plans/"+p.ID, nil).want(t, http.StatusNoContent, nil)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		s.do(t, m, "/admin/v1/plans/"+p.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	}
	s.do(t, http.MethodPatch, "/admin/v1/plans/nothing", map[string]any{"name": "x"}).
		wantError(t, http.StatusNotFound, "not_found", "")

	var actions []string
	for _, e := range s.audit(t) {
		if e.Target == p.ID {
			actions = append(actions, e.Action)
		}
	}
	if want := "plan.delete,plan.update,plan.create"; strings.Join(actions, ",") != want {
		t.Errorf("audit of the plan (newest first) = %v, want %s", actions, want)
	}
}

func TestPlanInputErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.plan(t, map[string]any{"name": "Taken", "enforcement": "hard"})
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"negative", `{"name":"p","enforcement":"hard","limits":{"max_connections":-1}}`, 400, "limits.max_connections"},
		{"fraction", `{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":1.5}}`, 400, "limits.max_messages_per_day"},
		{"string", `{"name":"p","enforcement":"hard","limits":{"publish_rate":"x"}}`, 400, "limits.publish_rate"},
		{"digits in a string", `{"name":"p","enforcement":"hard","limits":{"publish_rate":"5"}}`, 400, "limits.publish_rate"},
		{"absurd", `{"name":"p","enforcement":"hard","limits":{"max_messages_per_month":1e30}}`, 400, "limits.max_messages_per_month"},
		{"over the cap", `{"name":"p","enforcement":"hard","limits":{"max_message_bytes":2000000}}`, 400, "limits.max_message_bytes"},
		{"unknown limit", `{"name":"p","enforcement":"hard","limits":{"max_everything":1}}`, 400, "limits.max_everything"},
		{"bad enforcement", `{"name":"p","enforcement":"strict"}`, 400, "enforcement"},
		{"no enforcement", `{"name":"p"}`, 400, "enforcement"},
		{"no name", `{"enforcement":"soft"}`, 400, "name"},
		{"bad id", `{"id":"a b","name":"p","enforcement":"soft"}`, 400, "id"},
		{"name taken", `{"name":"Taken","enforcement":"soft"}`, 409, ""},
		// Found by probing.
		{"blank name", `{"name":"   ","enforcement":"soft"}`, 400, "name"},
		{"blank name with a tab", `{"name":"  \t ","enforcement":"soft"}`, 400, "name"},
		{"past int64", `{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":9223372036854775808}}`, 400, "limits.max_messages_per_day"},
		{"limits not an object", `{"name":"p","enforcement":"hard","limits":[1]}`, 400, "limits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := "bad_request"
			if tt.status == http.StatusConflict {
				code = "conflict"
			}
			s.do(t, http.MethodPost, "/admin/v1/plans", tt.body).wantError(t, tt.status, code, tt.field)
		})
	}
	// Out of range says the range, whatever the notation; no integer says
	// so.
	for body, want := range map[string]string{
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":9223372036854775808}}`: "must be between 0 (unlimited) and 1000000000000000",
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":1e16}}`:                "must be between 0 (unlimited) and 1000000000000000",
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":1e999999999}}`:         "must be between 0 (unlimited) and 1000000000000000",
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":-1e3}}`:                "must be between 0 (unlimited) and 1000000000000000",
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":1.5}}`:                 "must be an integer",
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":1e-999999999}}`:        "must be an integer",
		`{"name":"p","enforcement":"hard","limits":{"max_messages_per_day":"5"}}`:                 "must be an integer",
	} {
		if e := s.do(t, http.MethodPost, "/admin/v1/plans", body).wantError(t, http.StatusBadRequest, "bad_request",
			"limits.max_messages_per_day"); !strings.Contains(e.Error.Message, want) {
			t.Errorf("POST %s: %q, want %q", body, e.Error.Message, want)
		}
	}
	p := s.plan(t, map[string]any{"name": "Other", "enforcement": "hard"})
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, `{"name":" "}`).
		wantError(t, http.StatusBadRequest, "bad_request", "name")
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, `{"limits":{"client_event_rate":-2}}`).
		wantError(t, http.StatusBadRequest, "bad_request", "limits.client_event_rate")
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, `{"limits":{"client_event_rate":2.5}}`).
		wantError(t, http.StatusBadRequest, "bad_request", "limits.client_event_rate")
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, `{"limits":{"bogus":1}}`).
		wantError(t, http.StatusBadRequest, "bad_request", "limits.bogus")
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, `{"enforcement":"none"}`).
		wantError(t, http.StatusBadRequest, "bad_request", "enforcement")
}

// TestPlanLimitsInAnyNotation: a limit is an integer whatever its JSON
// notation (found by probing: 1e15 and 1.0 were refused as no integer);
// null leaves it as it is.
func TestPlanLimitsInAnyNotation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var p billing.Plan
	s.do(t, http.MethodPost, "/admin/v1/plans", `{"name":"Notations","enforcement":"hard","limits":`+
		`{"max_messages_per_day":1e15,"max_messages_per_month":1.0,"publish_rate":2.50e1,"max_connections":0.0e5,`+
		`"max_message_bytes":1024000e-3,"client_event_rate":null}}`).want(t, http.StatusCreated, &p)
	want := billing.Limits{MaxMessagesPerDay: billing.MaxPlanMessages, MaxMessagesPerMonth: 1, PublishRate: 25, MaxMessageBytes: 1024}
	if p.Limits != want {
		t.Errorf("limits = %+v, want %+v", p.Limits, want)
	}
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, `{"limits":{"publish_rate":null,"max_connections":3e0}}`).want(t, http.StatusOK, &p)
	want.MaxConnections = 3
	if p.Limits != want {
		t.Errorf("patched limits = %+v, want %+v", p.Limits, want)
	}
}

// TestListsRefuseOtherListsCursors: a cursor one list issued is a 400
// naming cursor on every other list, even where its value would fit
// (found by probing: /plans paged with an accounts cursor).
func TestListsRefuseOtherListsCursors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := range 2 {
		a := s.account(t, fmt.Sprintf("acct-%d", i))
		s.app(t, a.ID, fmt.Sprintf("app-%d", i), nil)
		s.plan(t, map[string]any{"name": fmt.Sprintf("plan-%d", i), "enforcement": "soft"})
	}
	lists := []string{"/admin/v1/accounts", "/admin/v1/apps", "/admin/v1/plans", "/admin/v1/audit"}
	cursors := map[string]string{}
	for _, l := range lists {
		var page list[json.RawMessage]
		s.do(t, http.MethodGet, l+"?limit=1", nil).want(t, http.StatusOK, &page)
		if page.NextCursor == nil {
			t.Fatalf("%s has no second page", l)
		}
		cursors[l] = *page.NextCursor
		s.do(t, http.MethodGet, l+"?limit=1&cursor="+url.QueryEscape(*page.NextCursor), nil).want(t, http.StatusOK, nil)
	}
	for from, c := range cursors {
		for _, to := range lists {
			if to != from {
				s.do(t, http.MethodGet, to+"?cursor="+url.QueryEscape(c), nil).wantError(t, http.StatusBadRequest, "bad_request", "cursor")
			}
		}
	}
}

func TestAccountPlanAPI(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.plan(t, map[string]any{"id": "pro", "name": "Pro", "enforcement": "hard",
		"limits": map[string]any{"max_message_bytes": 100}})
	acct := s.account(t, "Acme")
	other := s.account(t, "Other")
	if acct.PlanID != nil {
		t.Errorf("new account without a default plan has plan %q", *acct.PlanID)
	}
	a1 := s.app(t, acct.ID, "web", nil)
	a2 := s.app(t, acct.ID, "mobile", nil)
	s.app(t, other.ID, "elsewhere", nil)
	s.pub.take()

	var got controlplane.Account
	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, map[string]any{"plan_id": p.ID}).
		want(t, http.StatusOK, &got)
	if got.ID != acct.ID || got.PlanID == nil || *got.PlanID != p.ID {
		t.Fatalf("PATCH answered %+v", got)
	}
	wantSynced(t, s, a1.ID, a2.ID)
	s.do(t, http.MethodGet, "/admin/v1/accounts/"+acct.ID, nil).want(t, http.StatusOK, &got)
	if got.PlanID == nil || *got.PlanID != p.ID {
		t.Errorf("GET after PATCH = %+v", got)
	}
	var l list[controlplane.Account]
	s.do(t, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, &l)
	for _, a := range l.Items {
		if (a.ID == acct.ID) != (a.PlanID != nil) {
			t.Errorf("listed account %+v", a)
		}
	}

	// A plan change resyncs every app of every account on it.
	s.do(t, http.MethodPatch, "/admin/v1/plans/"+p.ID, map[string]any{"limits": map[string]any{"max_message_bytes": 50}}).
		want(t, http.StatusOK, nil)
	wantSynced(t, s, a1.ID, a2.ID)

	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+other.ID, map[string]any{"plan_id": p.ID}).want(t, http.StatusOK, nil)
	s.pub.take()
	e := s.do(t, http.MethodDelete, "/admin/v1/plans/"+p.ID, nil).wantError(t, http.StatusConflict, "conflict", "")
	if !strings.Contains(e.Error.Message, "2 account") {
		t.Errorf("409 message %q does not say how many accounts use the plan", e.Error.Message)
	}

	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, map[string]any{"plan_id": "missing"}).
		wantError(t, http.StatusBadRequest, "bad_request", "plan_id")
	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, `{"plan_id":5}`).
		wantError(t, http.StatusBadRequest, "bad_request", "plan_id")
	s.do(t, http.MethodPatch, "/admin/v1/accounts/acc_missing", map[string]any{"plan_id": p.ID}).
		wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, `{"name":"x"}`).
		wantError(t, http.StatusBadRequest, "bad_request", "name")
	if calls := s.pub.take(); len(calls) != 0 {
		t.Errorf("refused PATCHes synced %v", calls)
	}

	// {} changes nothing; null and "" remove the plan.
	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, `{}`).want(t, http.StatusOK, &got)
	if got.PlanID == nil {
		t.Errorf("an empty PATCH removed the plan")
	}
	for _, body := range []string{`{"plan_id":null}`, `{"plan_id":""}`} {
		got = controlplane.Account{}
		s.do(t, http.MethodPatch, "/admin/v1/accounts/"+acct.ID, body).want(t, http.StatusOK, &got)
		if got.ID != acct.ID || got.PlanID != nil {
			t.Errorf("%s answered %+v", body, got)
		}
	}
	wantSynced(t, s, a1.ID, a2.ID, a1.ID, a2.ID)
	s.do(t, http.MethodPatch, "/admin/v1/accounts/"+other.ID, `{"plan_id":null}`).want(t, http.StatusOK, nil)
	s.do(t, http.MethodDelete, "/admin/v1/plans/"+p.ID, nil).want(t, http.StatusNoContent, nil)

	var updates int
	for _, e := range s.audit(t) {
		if e.Target == acct.ID && e.Action == "account.update" {
			updates++
		}
	}
	if updates != 3 {
		t.Errorf("account.update audit entries = %d, want 3", updates)
	}
}

// wantSynced checks the apps synced since the last take, in any order.
func wantSynced(t *testing.T, s *server, ids ...string) {
	t.Helper()
	calls := s.pub.take()
	slices.Sort(calls)
	slices.Sort(ids)
	if !slices.Equal(calls, ids) {
		t.Errorf("synced %v, want %v", calls, ids)
	}
}

func TestDefaultPlan(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config) { c.DefaultPlanID = "starter" })
	s.plan(t, map[string]any{"id": "starter", "name": "Starter", "enforcement": "soft"})
	acct := s.account(t, "Acme")
	if acct.PlanID == nil || *acct.PlanID != "starter" {
		t.Errorf("new account = %+v, want plan starter", acct)
	}
	if _, err := s.store.SetAccountPlan(t.Context(), acct.ID, ""); err != nil {
		t.Fatal(err)
	}
	e := s.do(t, http.MethodDelete, "/admin/v1/plans/starter", nil).wantError(t, http.StatusConflict, "conflict", "")
	if !strings.Contains(e.Error.Message, "default plan") {
		t.Errorf("409 message = %q", e.Error.Message)
	}
}
