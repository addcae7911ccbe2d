package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// fixedTester answers every test request with one result.
type fixedTester struct{ res webhooks.TestResult }

func (f fixedTester) Test(context.Context, string, string) (webhooks.TestResult, error) {
	return f.res, nil
}

func (f fixedTester) TestOperator(context.Context, string) (webhooks.TestResult, error) {
	return f.res, nil
}

func TestWebhookEndpointsLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config) {
		c.Webhooks = api.WebhooksConfig{AllowPrivate: true, Tester: fixedTester{webhooks.TestResult{StatusCode: 204, OK: true}}}
	})
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.pub.take()
	base := "/admin/v1/apps/" + app.ID + "/webhooks"

	var w controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, base, `{"url":"http://127.0.0.1:9/hook"}`).want(t, http.StatusCreated, &w)
	if w.ID == "" || !w.Enabled || w.Batch || !slices.Equal(w.Events, channels.DefaultWebhookEventNames()) {
		t.Fatalf("created with defaults: %+v", w)
	}
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID}) {
		t.Errorf("SyncApp calls after create = %v", calls)
	}
	cfg, _ := s.store.AppConfig(context.Background(), app.ID)
	if !slices.Equal(cfg.WebhookEvents, channels.DefaultWebhookEventNames()) {
		t.Errorf("app config webhook events %v", cfg.WebhookEvents)
	}

	var w2 controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, base, `{"url":"https://127.0.0.1/b","events":["subscription_count","channel_vacated","channel_vacated"],
		"batch":true,"enabled":false,"channel_filter":"presence-*","headers":{"Authorization":"Bearer x"}}`).
		want(t, http.StatusCreated, &w2)
	if !w2.Batch || w2.Enabled || w2.ChannelFilter != "presence-*" || w2.Headers["Authorization"] != "Bearer x" ||
		!slices.Equal(w2.Events, []channels.WebhookEventName{channels.WebhookChannelVacated, channels.WebhookSubscriptionCount}) {
		t.Fatalf("created %+v", w2)
	}

	var l list[controlplane.WebhookEndpoint]
	s.do(t, http.MethodGet, base, nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 2 || l.Items[0].ID != w.ID {
		t.Fatalf("list %+v", l)
	}
	var got controlplane.WebhookEndpoint
	s.do(t, http.MethodGet, base+"/"+w.ID, nil).want(t, http.StatusOK, &got)
	if got.ID != w.ID {
		t.Fatalf("get %+v", got)
	}
	s.pub.take()
	s.do(t, http.MethodPatch, base+"/"+w.ID, `{"enabled":false,"events":["member_added"]}`).want(t, http.StatusOK, &got)
	if got.Enabled || !slices.Equal(got.Events, []channels.WebhookEventName{channels.WebhookMemberAdded}) || got.URL != w.URL {
		t.Fatalf("patched %+v", got)
	}
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID}) {
		t.Errorf("SyncApp calls after update = %v", calls)
	}
	cfg, _ = s.store.AppConfig(context.Background(), app.ID)
	if cfg.WebhookEvents != nil {
		t.Errorf("no endpoint enabled, app config webhook events %v", cfg.WebhookEvents)
	}

	var dl list[controlplane.WebhookDelivery]
	s.do(t, http.MethodGet, base+"/"+w.ID+"/deliveries?status=failed&limit=10", nil).want(t, http.StatusOK, &dl)
	if len(dl.Items) != 0 || dl.NextCursor != nil {
		t.Fatalf("deliveries %+v", dl)
	}
	s.do(t, http.MethodGet, base+"/"+w.ID+"/deliveries?status=lost", nil).wantError(t, http.StatusBadRequest, "bad_request", "status")
	s.do(t, http.MethodPost, base+"/"+w.ID+"/deliveries/whd_nope/redeliver", nil).wantError(t, http.StatusNotFound, "not_found", "")

	var res webhooks.TestResult
	s.do(t, http.MethodPost, base+"/"+w.ID+"/test", nil).want(t, http.StatusOK, &res)
	if res.StatusCode != 204 || !res.OK {
		t.Fatalf("test = %+v", res)
	}

	s.do(t, http.MethodDelete, base+"/"+w.ID, nil).want(t, http.StatusNoContent, nil)
	s.do(t, http.MethodGet, base+"/"+w.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodDelete, base+"/"+w.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodGet, "/admin/v1/apps/other/webhooks/"+w2.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodPost, "/admin/v1/apps/nope/webhooks", `{"url":"http://127.0.0.1/"}`).wantError(t, http.StatusNotFound, "not_found", "")

	actions := map[string]bool{}
	for _, e := range s.audit(t) {
		actions[e.Action] = true
		if string(e.Details) != "" && slices.Contains([]string{"webhook.create", "webhook.update"}, e.Action) &&
			(strings.Contains(string(e.Details), "127.0.0.1") || strings.Contains(string(e.Details), "Bearer")) {
			t.Errorf("audit details show the URL or a header: %s", e.Details)
		}
	}
	for _, a := range []string{"webhook.create", "webhook.update", "webhook.delete"} {
		if !actions[a] {
			t.Errorf("no %s audit entry", a)
		}
	}
}

func TestWebhookEndpointInput(t *testing.T) {
	t.Parallel()
	s := newServer(t) // private addresses refused
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	base := "/admin/v1/apps/" + app.ID + "/webhooks"
	cases := []struct {
		body, field string
	}{
		{`{"url":"http://127.0.0.1/hook"}`, "url"},
		{`{"url":"http://169.254.169.254/latest"}`, "url"},
		{`{"url":"http://[::1]/"}`, "url"},
		{`{"url":"http://10.0.0.1/"}`, "url"},
		{`{"url":"ftp://93.184.215.14/"}`, "url"},
		{`{"url":"https://u:p@93.184.215.14/"}`, "url"},
		{`{}`, "url"},
		{`{"url":"https://93.184.215.14/","events":["channel_occupied","nope"]}`, "events"},
		{`{"url":"https://93.184.215.14/","events":[]}`, "events"},
		{`{"url":"https://93.184.215.14/","channel_filter":"bad filter"}`, "channel_filter"},
		{`{"url":"https://93.184.215.14/","headers":{"X-Pusher-Signature":"x"}}`, "headers.X-Pusher-Signature"},
		{`{"url":"https://93.184.215.14/","headers":{"bad name":"x"}}`, "headers"},
		{`{"url":"https://93.184.215.14/","headers":{"X-Ok":"a\r\nb"}}`, "headers.X-Ok"},
	}
	for _, c := range cases {
		s.do(t, http.MethodPost, base, c.body).wantError(t, http.StatusBadRequest, "bad_request", c.field)
	}
	var w controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, base, `{"url":"https://93.184.215.14/hook"}`).want(t, http.StatusCreated, &w)
	s.do(t, http.MethodPatch, base+"/"+w.ID, `{"url":"http://192.168.0.1/"}`).wantError(t, http.StatusBadRequest, "bad_request", "url")
	s.do(t, http.MethodPatch, base+"/"+w.ID, `{"events":["bogus"]}`).wantError(t, http.StatusBadRequest, "bad_request", "events")
	s.do(t, http.MethodPost, base+"/"+w.ID+"/test", nil).wantError(t, http.StatusServiceUnavailable, "unavailable", "")
}
