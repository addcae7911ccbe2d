package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// createOperatorWebhookRequest is the body of POST
// /admin/v1/operator/webhooks. Absent events mean every operator kind.
type createOperatorWebhookRequest struct {
	URL     string                      `json:"url"`
	Events  []channels.WebhookEventName `json:"events,omitempty"`
	Enabled *bool                       `json:"enabled,omitempty"`
	Headers map[string]string           `json:"headers,omitempty"`
}

// updateOperatorWebhookRequest is the body of PATCH
// /admin/v1/operator/webhooks/{webhook_id}; absent fields are unchanged.
type updateOperatorWebhookRequest struct {
	URL     *string                      `json:"url,omitempty"`
	Events  *[]channels.WebhookEventName `json:"events,omitempty"`
	Enabled *bool                        `json:"enabled,omitempty"`
	Headers *map[string]string           `json:"headers,omitempty"`
}

// operatorWebhookAuditDetails is what the audit log keeps of an operator
// endpoint change: never its URL, header values or secret.
type operatorWebhookAuditDetails struct {
	Operator bool                        `json:"operator"`
	Events   []channels.WebhookEventName `json:"events,omitempty"`
	Enabled  *bool                       `json:"enabled,omitempty"`
	Delivery string                      `json:"delivery_id,omitempty"`
}

func (a *API) createOperatorWebhook(c echo.Context) error {
	var in createOperatorWebhookRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	ctx := c.Request().Context()
	nw := controlplane.NewWebhookEndpoint{URL: in.URL, Events: in.Events, Enabled: true, Headers: in.Headers}
	if in.Events == nil {
		nw.Events = channels.OperatorWebhookEventNames()
	}
	if in.Enabled != nil {
		nw.Enabled = *in.Enabled
	}
	if err := webhooks.CheckURL(ctx, nw.URL, a.webhooks.AllowPrivate); err != nil {
		return err
	}
	var err error
	if nw.Events, err = checkOperatorWebhookFields(nw.Events, nw.Headers); err != nil {
		return err
	}
	w, err := a.store.CreateOperatorWebhookEndpoint(ctx, nw)
	if err != nil {
		return err
	}
	a.audit(c, "webhook.create", w.ID, operatorWebhookAuditDetails{Operator: true, Events: w.Events, Enabled: &w.Enabled})
	return c.JSON(http.StatusCreated, w)
}

// checkOperatorWebhookFields validates an operator endpoint's events and
// headers and returns its events without duplicates, in their canonical
// order.
func checkOperatorWebhookFields(events []channels.WebhookEventName, headers map[string]string) ([]channels.WebhookEventName, error) {
	if len(events) == 0 {
		return nil, channels.BadRequest("events", "events must name at least one kind (or be left out for all)")
	}
	for _, e := range events {
		if !e.Operator() {
			return nil, channels.BadRequest("events", fmt.Sprintf("unknown operator webhook event %q", e))
		}
	}
	var out []channels.WebhookEventName
	for _, n := range channels.OperatorWebhookEventNames() {
		if slices.Contains(events, n) {
			out = append(out, n)
		}
	}
	return out, checkWebhookHeaders(headers)
}

func (a *API) listOperatorWebhooks(c echo.Context) error {
	return endpointList(c, a.store.ListOperatorWebhookEndpoints)
}

func (a *API) getOperatorWebhook(c echo.Context) error {
	w, err := a.store.GetOperatorWebhookEndpoint(c.Request().Context(), c.Param("webhook_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (a *API) updateOperatorWebhook(c echo.Context) error {
	var in updateOperatorWebhookRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	ctx, id := c.Request().Context(), c.Param("webhook_id")
	cur, err := a.store.GetOperatorWebhookEndpoint(ctx, id)
	if err != nil {
		return err
	}
	patch := controlplane.WebhookEndpointPatch{URL: in.URL, Enabled: in.Enabled, Headers: in.Headers}
	events, headers, err := a.patchedWebhook(ctx, cur, in.URL, in.Events, in.Headers)
	if err != nil {
		return err
	}
	if events, err = checkOperatorWebhookFields(events, headers); err != nil {
		return err
	}
	if in.Events != nil {
		patch.Events = &events
	}
	w, err := a.store.UpdateOperatorWebhookEndpoint(ctx, id, patch)
	if err != nil {
		return err
	}
	a.audit(c, "webhook.update", id, operatorWebhookAuditDetails{Operator: true, Events: w.Events, Enabled: &w.Enabled})
	return c.JSON(http.StatusOK, w)
}

func (a *API) deleteOperatorWebhook(c echo.Context) error {
	id := c.Param("webhook_id")
	if err := a.store.DeleteOperatorWebhookEndpoint(c.Request().Context(), id); err != nil {
		return err
	}
	a.audit(c, "webhook.delete", id, operatorWebhookAuditDetails{Operator: true})
	return c.NoContent(http.StatusNoContent)
}

func (a *API) listOperatorWebhookDeliveries(c echo.Context) error {
	q, err := deliveryQuery(c)
	if err != nil {
		return err
	}
	items, next, err := a.store.ListOperatorWebhookDeliveries(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(items, next))
}

func (a *API) redeliverOperatorWebhook(c echo.Context) error {
	id, delivery := c.Param("webhook_id"), c.Param("delivery_id")
	if err := a.store.RedeliverOperatorWebhook(c.Request().Context(), id, delivery); err != nil {
		return err
	}
	a.audit(c, "webhook.redeliver", id, operatorWebhookAuditDetails{Operator: true, Delivery: delivery})
	return c.NoContent(http.StatusAccepted)
}

func (a *API) testOperatorWebhook(c echo.Context) error {
	return a.runWebhookTest(c, func(ctx context.Context, t WebhookTester) (webhooks.TestResult, error) {
		return t.TestOperator(ctx, c.Param("webhook_id"))
	})
}
