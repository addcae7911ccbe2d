package api

import (
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/http/httpguts"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// WebhooksConfig is what the webhook routes need beside the store.
type WebhooksConfig struct {
	// Tester sends an endpoint a test request; nil answers that route 503.
	Tester WebhookTester
	// AllowPrivate accepts endpoints on loopback, private and link-local
	// addresses (--webhook-allow-private).
	AllowPrivate bool
}

// WebhookTester sends an endpoint a signed test event
// (controlplane/webhooks.Dispatcher).
type WebhookTester interface {
	Test(ctx context.Context, appID, endpointID string) (webhooks.TestResult, error)
	TestOperator(ctx context.Context, endpointID string) (webhooks.TestResult, error)
}

// Limits on an endpoint's fields.
const (
	maxWebhookHeaders       = 20
	maxWebhookHeaderBytes   = 1024
	maxWebhookChannelFilter = 200
)

// channelFilterPattern is a channel name with '*' wildcards.
var channelFilterPattern = regexp.MustCompile(`^[A-Za-z0-9_\-=@,.;*]+$`)

// createWebhookRequest is the body of POST /admin/v1/apps/{id}/webhooks.
// Absent events mean every kind but subscription_count.
type createWebhookRequest struct {
	URL           string                      `json:"url"`
	Events        []channels.WebhookEventName `json:"events,omitempty"`
	Batch         *bool                       `json:"batch,omitempty"`
	Enabled       *bool                       `json:"enabled,omitempty"`
	ChannelFilter string                      `json:"channel_filter,omitempty"`
	Headers       map[string]string           `json:"headers,omitempty"`
}

// updateWebhookRequest is the body of PATCH …/webhooks/{webhook_id};
// absent fields are unchanged.
type updateWebhookRequest struct {
	URL           *string                      `json:"url,omitempty"`
	Events        *[]channels.WebhookEventName `json:"events,omitempty"`
	Batch         *bool                        `json:"batch,omitempty"`
	Enabled       *bool                        `json:"enabled,omitempty"`
	ChannelFilter *string                      `json:"channel_filter,omitempty"`
	Headers       *map[string]string           `json:"headers,omitempty"`
}

// webhookAuditDetails is what the audit log keeps of an endpoint change:
// never its URL (which may carry a token) or its header values.
type webhookAuditDetails struct {
	AppID    string                      `json:"app_id"`
	Events   []channels.WebhookEventName `json:"events,omitempty"`
	Enabled  *bool                       `json:"enabled,omitempty"`
	Delivery string                      `json:"delivery_id,omitempty"`
}

func (a *API) createWebhook(c echo.Context) error {
	var in createWebhookRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	ctx, appID := c.Request().Context(), c.Param("id")
	cfg, err := a.store.AppConfig(ctx, appID)
	if err != nil {
		return err
	}
	nw := controlplane.NewWebhookEndpoint{URL: in.URL, Events: in.Events, Enabled: true,
		ChannelFilter: in.ChannelFilter, Headers: in.Headers, MaxEndpoints: cfg.Quota.MaxWebhookEndpoints}
	if in.Events == nil {
		nw.Events = channels.DefaultWebhookEventNames()
	}
	if in.Batch != nil {
		nw.Batch = *in.Batch
	}
	if in.Enabled != nil {
		nw.Enabled = *in.Enabled
	}
	if err := webhooks.CheckURL(ctx, nw.URL, a.webhooks.AllowPrivate); err != nil {
		return err
	}
	if nw.Events, err = checkWebhookFields(nw.Events, nw.ChannelFilter, nw.Headers); err != nil {
		return err
	}
	w, err := a.store.CreateWebhookEndpoint(ctx, appID, nw)
	if err != nil {
		return err
	}
	a.audit(c, "webhook.create", w.ID, webhookAuditDetails{AppID: appID, Events: w.Events, Enabled: &w.Enabled})
	a.syncApp(c, appID)
	return c.JSON(http.StatusCreated, w)
}

// checkWebhookFields validates an endpoint's fields but its URL and
// returns its events without duplicates, in their canonical order.
func checkWebhookFields(events []channels.WebhookEventName, filter string, headers map[string]string) ([]channels.WebhookEventName, error) {
	if len(events) == 0 {
		return nil, channels.BadRequest("events", "events must name at least one kind (or be left out for the defaults)")
	}
	for _, e := range events {
		if !e.Valid() {
			return nil, channels.BadRequest("events", fmt.Sprintf("unknown webhook event %q", e))
		}
	}
	var out []channels.WebhookEventName
	for _, n := range channels.WebhookEventNames() {
		if slices.Contains(events, n) {
			out = append(out, n)
		}
	}
	if filter != "" && (len(filter) > maxWebhookChannelFilter || !channelFilterPattern.MatchString(filter)) {
		return nil, channels.BadRequest("channel_filter", fmt.Sprintf(
			"channel_filter must be up to %d characters of a channel name, with * matching any run", maxWebhookChannelFilter))
	}
	return out, checkWebhookHeaders(headers)
}

// checkWebhookHeaders refuses too many headers, invalid names or values,
// and the headers Herald sets itself.
func checkWebhookHeaders(h map[string]string) error {
	if len(h) > maxWebhookHeaders {
		return channels.BadRequest("headers", fmt.Sprintf("at most %d headers", maxWebhookHeaders))
	}
	for k, v := range h {
		field := "headers." + k
		if !httpguts.ValidHeaderFieldName(k) {
			return channels.BadRequest("headers", fmt.Sprintf("%q is not a valid header name", k))
		}
		if !httpguts.ValidHeaderFieldValue(v) || len(v) > maxWebhookHeaderBytes {
			return channels.BadRequest(field, fmt.Sprintf("a header value must be valid and at most %d bytes", maxWebhookHeaderBytes))
		}
		canon := textproto.CanonicalMIMEHeaderKey(k)
		for _, r := range webhooks.ReservedHeaders {
			if strings.EqualFold(canon, r) {
				return channels.BadRequest(field, canon+" is set by Herald")
			}
		}
	}
	return nil
}

func (a *API) listWebhooks(c echo.Context) error {
	return endpointList(c, func(ctx context.Context) ([]controlplane.WebhookEndpoint, error) {
		return a.store.ListWebhookEndpoints(ctx, c.Param("id"))
	})
}

func (a *API) getWebhook(c echo.Context) error {
	w, err := a.store.GetWebhookEndpoint(c.Request().Context(), c.Param("id"), c.Param("webhook_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (a *API) updateWebhook(c echo.Context) error {
	var in updateWebhookRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	ctx, appID, id := c.Request().Context(), c.Param("id"), c.Param("webhook_id")
	cur, err := a.store.GetWebhookEndpoint(ctx, appID, id)
	if err != nil {
		return err
	}
	patch := controlplane.WebhookEndpointPatch{URL: in.URL, Events: in.Events, Batch: in.Batch,
		Enabled: in.Enabled, ChannelFilter: in.ChannelFilter, Headers: in.Headers}
	events, headers, err := a.patchedWebhook(ctx, cur, in.URL, in.Events, in.Headers)
	if err != nil {
		return err
	}
	filter := cur.ChannelFilter
	if in.ChannelFilter != nil {
		filter = *in.ChannelFilter
	}
	if events, err = checkWebhookFields(events, filter, headers); err != nil {
		return err
	}
	if in.Events != nil {
		patch.Events = &events
	}
	w, err := a.store.UpdateWebhookEndpoint(ctx, appID, id, patch)
	if err != nil {
		return err
	}
	a.audit(c, "webhook.update", id, webhookAuditDetails{AppID: appID, Events: w.Events, Enabled: &w.Enabled})
	a.syncApp(c, appID)
	return c.JSON(http.StatusOK, w)
}

func (a *API) deleteWebhook(c echo.Context) error {
	appID, id := c.Param("id"), c.Param("webhook_id")
	if err := a.store.DeleteWebhookEndpoint(c.Request().Context(), appID, id); err != nil {
		return err
	}
	a.audit(c, "webhook.delete", id, webhookAuditDetails{AppID: appID})
	a.syncApp(c, appID)
	return c.NoContent(http.StatusNoContent)
}

func (a *API) listWebhookDeliveries(c echo.Context) error {
	q, err := deliveryQuery(c)
	if err != nil {
		return err
	}
	q.AppID = c.Param("id")
	items, next, err := a.store.ListWebhookDeliveries(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(items, next))
}

// deliveryQuery reads a delivery log listing's endpoint, status filter
// and page.
func deliveryQuery(c echo.Context) (controlplane.WebhookDeliveryQuery, error) {
	p, err := parsePage(c)
	if err != nil {
		return controlplane.WebhookDeliveryQuery{}, err
	}
	status := controlplane.WebhookDeliveryStatus(c.QueryParam("status"))
	if status != "" && !status.Valid() {
		return controlplane.WebhookDeliveryQuery{}, channels.BadRequest("status", "status must be pending, delivered or failed")
	}
	return controlplane.WebhookDeliveryQuery{EndpointID: c.Param("webhook_id"), Status: status, Page: p}, nil
}

// patchedWebhook checks a PATCH's new URL (an unchanged one was checked
// when it was set) and returns the endpoint's events and headers as they
// would be, only the given fields changed, for the caller to check.
func (a *API) patchedWebhook(ctx context.Context, cur controlplane.WebhookEndpoint, url *string,
	events *[]channels.WebhookEventName, headers *map[string]string) ([]channels.WebhookEventName, map[string]string, error) {
	if url != nil {
		if err := webhooks.CheckURL(ctx, *url, a.webhooks.AllowPrivate); err != nil {
			return nil, nil, err
		}
	}
	ev, hd := cur.Events, cur.Headers
	if events != nil {
		ev = *events
	}
	if headers != nil {
		hd = *headers
	}
	return ev, hd, nil
}

// endpointList answers a listing of endpoints, paged.
func endpointList(c echo.Context, list func(context.Context) ([]controlplane.WebhookEndpoint, error)) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	items, err := list(c.Request().Context())
	if err != nil {
		return err
	}
	page, next, err := pageOf(items, func(w controlplane.WebhookEndpoint) string { return w.ID }, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(page, next))
}

func (a *API) redeliverWebhook(c echo.Context) error {
	appID, id, delivery := c.Param("id"), c.Param("webhook_id"), c.Param("delivery_id")
	if err := a.store.RedeliverWebhook(c.Request().Context(), appID, id, delivery); err != nil {
		return err
	}
	a.audit(c, "webhook.redeliver", id, webhookAuditDetails{AppID: appID, Delivery: delivery})
	return c.NoContent(http.StatusAccepted)
}

func (a *API) testWebhook(c echo.Context) error {
	return a.runWebhookTest(c, func(ctx context.Context, t WebhookTester) (webhooks.TestResult, error) {
		return t.Test(ctx, c.Param("id"), c.Param("webhook_id"))
	})
}

// runWebhookTest answers a test route with what test got from the
// dispatcher, 503 without one.
func (a *API) runWebhookTest(c echo.Context, test func(context.Context, WebhookTester) (webhooks.TestResult, error)) error {
	if a.webhooks.Tester == nil {
		return &channels.Error{Code: channels.CodeUnavailable, Message: "webhook tests need the webhook dispatcher"}
	}
	res, err := test(c.Request().Context(), a.webhooks.Tester)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
