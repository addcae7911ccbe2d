package api

import (
	"net/http"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// operatorWebhookRoutes are the admin routes of the operator webhook
// endpoints (docs/webhooks.md, "Operator webhooks").
func (a *API) operatorWebhookRoutes() []route {
	const (
		tag  = "operator webhooks"
		base = adminPrefix + "/operator/webhooks"
		one  = base + "/:webhook_id"
	)
	return []route{
		{method: http.MethodPost, path: base, id: "createOperatorWebhook", tag: tag,
			summary: "Add an operator webhook endpoint, which receives every account's quota_warning, quota_reached and quota_exceeded events (events defaults to all three, enabled to true). Its signing key and secret are generated; the secret is in this answer only. The URL rules are those of app endpoints.",
			status:  http.StatusCreated, request: typeOf[createOperatorWebhookRequest](),
			response: typeOf[controlplane.NewOperatorWebhookEndpoint](), handler: a.createOperatorWebhook},
		{method: http.MethodGet, path: base, id: "listOperatorWebhooks", tag: tag,
			summary: "List the operator webhook endpoints, oldest first.", status: http.StatusOK, query: pageParams(),
			response: typeOf[controlplane.WebhookEndpoint](), list: true, handler: a.listOperatorWebhooks},
		{method: http.MethodGet, path: one, id: "getOperatorWebhook", tag: tag,
			summary: "Get one operator webhook endpoint (with its signing key, never its secret).", status: http.StatusOK,
			response: typeOf[controlplane.WebhookEndpoint](), handler: a.getOperatorWebhook},
		{method: http.MethodPatch, path: one, id: "updateOperatorWebhook", tag: tag,
			summary: "Change any subset of an operator endpoint's url, events, enabled and headers.",
			status:  http.StatusOK, request: typeOf[updateOperatorWebhookRequest](),
			response: typeOf[controlplane.WebhookEndpoint](), handler: a.updateOperatorWebhook},
		{method: http.MethodDelete, path: one, id: "deleteOperatorWebhook", tag: tag,
			summary: "Delete an operator endpoint and its delivery log.", status: http.StatusNoContent, handler: a.deleteOperatorWebhook},
		{method: http.MethodGet, path: one + "/deliveries", id: "listOperatorWebhookDeliveries", tag: tag,
			summary: "The operator endpoint's delivery log, newest first.",
			status:  http.StatusOK,
			query: append([]queryParam{{name: "status", description: "Only deliveries in this status: pending, delivered or failed."}},
				pageParams()...),
			response: typeOf[controlplane.WebhookDelivery](), list: true, handler: a.listOperatorWebhookDeliveries},
		{method: http.MethodPost, path: one + "/deliveries/:delivery_id/redeliver", id: "redeliverOperatorWebhook", tag: tag,
			summary: "Send a delivery again: the same body and X-Herald-Delivery, with a new retry window.",
			status:  http.StatusAccepted, handler: a.redeliverOperatorWebhook},
		{method: http.MethodPost, path: one + "/test", id: "testOperatorWebhook", tag: tag,
			summary: "Send the operator endpoint a signed {\"name\":\"webhook_test\"} event now and answer its status.",
			status:  http.StatusOK, response: typeOf[webhooks.TestResult](), handler: a.testOperatorWebhook},
	}
}
