package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// TestListsRefuseForeignCursors: every admin list answers a cursor it did
// not issue with the same 400 naming cursor. Those of the first four
// rows decode to invalid UTF-8, which the lists read from PostgreSQL by
// id used to send to it: a 500 and an ERROR logged.
func TestListsRefuseForeignCursors(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config) {
		c.Webhooks = api.WebhooksConfig{AllowPrivate: true, Tester: fixedTester{webhooks.TestResult{StatusCode: 204, OK: true}}}
	})
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.key(t, app.ID)
	s.plan(t, map[string]any{"name": "Starter", "enforcement": "hard"})
	var hook, opHook controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/webhooks", `{"url":"http://127.0.0.1:9/hook"}`).
		want(t, http.StatusCreated, &hook)
	s.do(t, http.MethodPost, "/admin/v1/operator/webhooks", `{"url":"http://127.0.0.1:9/ops"}`).
		want(t, http.StatusCreated, &opHook)
	lists := []string{
		"/admin/v1/accounts", "/admin/v1/apps", "/admin/v1/plans",
		"/admin/v1/apps/" + app.ID + "/keys", "/admin/v1/tokens", "/admin/v1/audit", "/admin/v1/signing-keys",
		"/admin/v1/apps/" + app.ID + "/webhooks", "/admin/v1/apps/" + app.ID + "/webhooks/" + hook.ID + "/deliveries",
		"/admin/v1/operator/webhooks", "/admin/v1/operator/webhooks/" + opHook.ID + "/deliveries",
	}
	cursors := []string{
		"garbage", "AAAA", "_w", "zzzz", // the prober's
		"_x", "YWJ", "YWJj=", "+/8", "%C3%A9", "YQ%00", "w6k", strings.Repeat("_w", 100),
	}
	for _, path := range lists {
		for _, c := range cursors {
			t.Run(path+"?cursor="+c, func(t *testing.T) {
				q := "?cursor=" + c
				if !strings.Contains(c, "%") {
					q = "?cursor=" + url.QueryEscape(c)
				}
				s.do(t, http.MethodGet, path+q, nil).wantError(t, http.StatusBadRequest, "bad_request", "cursor")
			})
		}
	}
	if logs := s.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a foreign cursor logged an error:\n%s", logs)
	}
}
