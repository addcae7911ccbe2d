package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

func TestOperatorWebhookEndpointsLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config) {
		c.Webhooks = api.WebhooksConfig{AllowPrivate: true, Tester: fixedTester{webhooks.TestResult{StatusCode: 204, OK: true}}}
	})
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.pub.take()
	const base = "/admin/v1/operator/webhooks"

	var w controlplane.NewOperatorWebhookEndpoint
	s.do(t, http.MethodPost, base, `{"url":"http://127.0.0.1:9/ops","headers":{"Authorization":"Bearer x"}}`).
		want(t, http.StatusCreated, &w)
	if w.ID == "" || w.AppID != "" || w.Key == "" || w.Secret == "" || !w.Enabled || w.Batch ||
		!slices.Equal(w.Events, channels.OperatorWebhookEventNames()) {
		t.Fatalf("created with defaults: %+v", w)
	}
	if calls := s.pub.take(); len(calls) != 0 {
		t.Errorf("an operator endpoint synced apps: %v", calls)
	}
	var got controlplane.WebhookEndpoint
	raw := s.do(t, http.MethodGet, base+"/"+w.ID, nil)
	raw.want(t, http.StatusOK, &got)
	if got.ID != w.ID || got.Key != w.Key {
		t.Fatalf("get %+v", got)
	}
	if strings.Contains(string(raw.body), w.Secret) {
		t.Fatal("GET shows the secret")
	}
	// Operator and app routes do not reach each other's endpoints.
	s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID+"/webhooks/"+w.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	var aw controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/webhooks", `{"url":"http://127.0.0.1:9/app"}`).want(t, http.StatusCreated, &aw)
	s.do(t, http.MethodGet, base+"/"+aw.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")

	var l list[controlplane.WebhookEndpoint]
	s.do(t, http.MethodGet, base, nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].ID != w.ID {
		t.Fatalf("list %+v", l)
	}
	s.do(t, http.MethodPatch, base+"/"+w.ID, `{"enabled":false,"events":["quota_exceeded"]}`).want(t, http.StatusOK, &got)
	if got.Enabled || !slices.Equal(got.Events, []channels.WebhookEventName{channels.WebhookQuotaExceeded}) || got.URL != w.URL {
		t.Fatalf("patched %+v", got)
	}
	var dl list[controlplane.WebhookDelivery]
	s.do(t, http.MethodGet, base+"/"+w.ID+"/deliveries?status=pending", nil).want(t, http.StatusOK, &dl)
	if len(dl.Items) != 0 {
		t.Fatalf("deliveries %+v", dl)
	}
	s.do(t, http.MethodPost, base+"/"+w.ID+"/deliveries/whd_nope/redeliver", nil).wantError(t, http.StatusNotFound, "not_found", "")
	var res webhooks.TestResult
	s.do(t, http.MethodPost, base+"/"+w.ID+"/test", nil).want(t, http.StatusOK, &res)
	if res.StatusCode != 204 || !res.OK {
		t.Fatalf("test = %+v", res)
	}
	s.do(t, http.MethodDelete, base+"/"+w.ID, nil).want(t, http.StatusNoContent, nil)
	s.do(t, http.MethodGet, base+"/"+w.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")

	for _, e := range s.audit(t) {
		if d := string(e.Details); strings.Contains(d, "127.0.0.1") || strings.Contains(d, "Bearer") || strings.Contains(d, w.Secret) {
			t.Errorf("audit details show the URL, a header or the secret: %s", d)
		}
	}
}

func TestOperatorWebhookEndpointInput(t *testing.T) {
	t.Parallel()
	s := newServer(t) // private addresses refused
	const base = "/admin/v1/operator/webhooks"
	cases := []struct {
		body, field string
	}{
		{`{"url":"http://127.0.0.1/hook"}`, "url"},
		{`{"url":"http://169.254.169.254/latest"}`, "url"},
		{`{}`, "url"},
		{`{"url":"https://93.184.215.14/","events":["channel_occupied"]}`, "events"},
		{`{"url":"https://93.184.215.14/","events":[]}`, "events"},
		{`{"url":"https://93.184.215.14/","headers":{"X-Pusher-Key":"x"}}`, "headers.X-Pusher-Key"},
	}
	for _, c := range cases {
		s.do(t, http.MethodPost, base, c.body).wantError(t, http.StatusBadRequest, "bad_request", c.field)
	}
	// Operator endpoints have no batch or channel filter.
	s.do(t, http.MethodPost, base, `{"url":"https://93.184.215.14/","batch":true}`).wantError(t, http.StatusBadRequest, "bad_request", "")
	// App endpoints cannot take operator events.
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/webhooks", `{"url":"https://93.184.215.14/","events":["quota_warning"]}`).
		wantError(t, http.StatusBadRequest, "bad_request", "events")
}
